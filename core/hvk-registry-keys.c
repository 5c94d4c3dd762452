/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-config-keys-private.h"
#include "hvk-registry-private.h"

/* The configuration keys plugins declare for their backends: adding them
 * (hvk_plugin_register_config_keys()), finding one, listing a backend's,
 * and finding which backend has a key. */

static ConfigKeyEntry *
find_config_key (HvkRegistry *self,
                 const char  *backend,
                 const char  *key)
{
  for (guint i = 0; i < self->config_keys.live->len; i++)
    {
      ConfigKeyEntry *entry = g_ptr_array_index (self->config_keys.live, i);

      if (g_str_equal (entry->backend, backend) &&
          g_str_equal (entry->key.name, key))
        return entry;
    }
  return NULL;
}

/* The entries of @table (ConfigKeyEntry or RefusedKeyEntry: an owner, a
 * backend, then the member at @member_offset) registered for @backend,
 * as pointers to that member, in registration order. */
typedef struct
{
  HvkPlugin *owner;
  char *backend;
} BackendEntry;

static GPtrArray *
entries_for_backend (HvkRegistry *self,
                     Table       *table,
                     const char  *backend,
                     gsize        member_offset)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *members = g_ptr_array_new ();

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < table->live->len; i++)
    {
      BackendEntry *entry = g_ptr_array_index (table->live, i);

      if (g_str_equal (entry->backend, backend))
        g_ptr_array_add (members, G_STRUCT_MEMBER_P (entry, member_offset));
    }
  return members;
}

gboolean
hvk_registry_add_config_keys (HvkRegistry         *self,
                              HvkPlugin           *plugin,
                              const char          *backend,
                              const HvkConfigKey  *keys,
                              guint                n_keys,
                              GError             **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  if (!hvk_registry_check_backend_name (plugin, "config keys", backend, error))
    return FALSE;

  /* All or nothing: check every key before adding any. */
  for (guint i = 0; i < n_keys; i++)
    {
      const HvkConfigKey *key = &keys[i];

      if (!hvk_registry_name_is_valid (key->name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': config key %u of backend '%s': invalid name '%s' (expected [a-z0-9_-]+)",
                       hvk_registry_owner_name (plugin), i, backend,
                       key->name ? key->name : "(null)");
          return FALSE;
        }
      if ((guint) key->type > HVK_CONFIG_TYPE_PATH_LIST)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': config key '%s' of backend '%s': invalid type %d",
                       hvk_registry_owner_name (plugin), key->name, backend, (int) key->type);
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        {
          if (g_str_equal (keys[j].name, key->name))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "plugin '%s': config key '%s' of backend '%s' declared twice",
                           hvk_registry_owner_name (plugin), key->name, backend);
              return FALSE;
            }
        }
      if (hvk_config_keys_lookup_core (key->name) != NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "plugin '%s': config key '%s' of backend '%s' clashes with a core key",
                       hvk_registry_owner_name (plugin), key->name, backend);
          return FALSE;
        }
    }

  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < n_keys; i++)
    {
      ConfigKeyEntry *other = find_config_key (self, backend, keys[i].name);

      if (other != NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "plugin '%s': config key '%s' of backend '%s' already registered by plugin '%s'",
                       hvk_registry_owner_name (plugin), keys[i].name, backend,
                       hvk_registry_owner_name (other->owner));
          return FALSE;
        }
    }
  for (guint i = 0; i < n_keys; i++)
    {
      ConfigKeyEntry *entry = g_new0 (ConfigKeyEntry, 1);

      entry->owner = plugin;
      entry->backend = g_strdup (backend);
      entry->key.name = g_strdup (keys[i].name);
      entry->key.type = keys[i].type;
      entry->key.default_value = g_strdup (keys[i].default_value);
      entry->key.description = g_strdup (keys[i].description ? keys[i].description : "");
      hvk_registry_table_add (&self->config_keys, entry);
    }
  return TRUE;
}

/**
 * hvk_registry_lookup_config_key:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @key: a key name
 *
 * Finds a key a plugin declared for @backend with
 * hvk_plugin_register_config_keys().  The core's own keys are not here;
 * see hvk_config_lookup_key().
 *
 * Returns: (transfer none) (nullable): the key, owned by @self
 */
const HvkConfigKey *
hvk_registry_lookup_config_key (HvkRegistry *self,
                                const char  *backend,
                                const char  *key)
{
  g_autoptr(GMutexLocker) locker = NULL;
  ConfigKeyEntry *entry;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  entry = find_config_key (self, backend, key);
  return entry ? &entry->key : NULL;
}

/**
 * hvk_registry_get_config_keys:
 * @self: a #HvkRegistry
 * @backend: a backend name
 *
 * The keys plugins declared for @backend with
 * hvk_plugin_register_config_keys(), in the order they were declared.
 * The core's own keys are not here; see hvk_config_get_core_keys().
 *
 * Returns: (transfer container) (element-type HvkConfigKey): the keys,
 *   owned by @self
 */
GPtrArray *
hvk_registry_get_config_keys (HvkRegistry *self,
                              const char  *backend)
{
  g_return_val_if_fail (HVK_IS_REGISTRY (self), g_ptr_array_new ());
  g_return_val_if_fail (backend != NULL, g_ptr_array_new ());

  return entries_for_backend (self, &self->config_keys, backend,
                              G_STRUCT_OFFSET (ConfigKeyEntry, key));
}

/**
 * hvk_registry_find_config_key_owner:
 * @self: a #HvkRegistry
 * @key: a key name
 *
 * Which backend declared @key, for the error that refuses another
 * backend's key (it loads every plugin: an error path).
 *
 * Returns: (transfer none) (nullable): the first backend that declared
 *   @key, or %NULL
 */
const char *
hvk_registry_find_config_key_owner (HvkRegistry *self,
                                    const char  *key)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_ALL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < self->config_keys.live->len; i++)
    {
      ConfigKeyEntry *entry = g_ptr_array_index (self->config_keys.live, i);

      if (g_str_equal (entry->key.name, key))
        return entry->backend;
    }
  return NULL;
}


gboolean
hvk_registry_add_refused_keys (HvkRegistry          *self,
                               HvkPlugin            *plugin,
                               const char           *backend,
                               const HvkRefusedKey  *keys,
                               guint                 n_keys,
                               GError              **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  if (!hvk_registry_check_backend_name (plugin, "refused keys", backend, error))
    return FALSE;

  /* All or nothing: check every key before adding any. */
  for (guint i = 0; i < n_keys; i++)
    {
      if (keys[i].name == NULL
          || (hvk_config_keys_lookup_core (keys[i].name) == NULL
              && find_config_key (self, backend, keys[i].name) == NULL))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': refused key %u of backend '%s': '%s' is neither a core key nor one of the backend's",
                       hvk_registry_owner_name (plugin), i, backend,
                       keys[i].name ? keys[i].name : "(null)");
          return FALSE;
        }
      if (keys[i].reason == NULL || *keys[i].reason == '\0')
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': refused key '%s' of backend '%s': no reason given",
                       hvk_registry_owner_name (plugin), keys[i].name, backend);
          return FALSE;
        }
    }

  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < n_keys; i++)
    {
      RefusedKeyEntry *entry = g_new0 (RefusedKeyEntry, 1);

      entry->owner = plugin;
      entry->backend = g_strdup (backend);
      entry->key.name = g_strdup (keys[i].name);
      entry->key.reason = g_strdup (keys[i].reason);
      hvk_registry_table_add (&self->refused_keys, entry);
    }
  return TRUE;
}

/**
 * hvk_registry_get_refused_keys:
 * @self: a #HvkRegistry
 * @backend: a backend name
 *
 * The keys (core keys, or the backend's own) plugins declared @backend
 * refuses with hvk_plugin_register_refused_keys(), in the order they were
 * declared: a configuration of @backend that sets one of them to anything
 * but its default fails validation with %HVK_ERROR_NOT_SUPPORTED.
 *
 * Returns: (transfer container) (element-type HvkRefusedKey): the keys
 *   and why, owned by @self
 */
GPtrArray *
hvk_registry_get_refused_keys (HvkRegistry *self,
                               const char  *backend)
{
  g_return_val_if_fail (HVK_IS_REGISTRY (self), g_ptr_array_new ());
  g_return_val_if_fail (backend != NULL, g_ptr_array_new ());

  return entries_for_backend (self, &self->refused_keys, backend,
                              G_STRUCT_OFFSET (RefusedKeyEntry, key));
}

/**
 * hvk_registry_lookup_refused_key:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @key: a key name
 *
 * Whether @backend refuses @key (a plugin said so with
 * hvk_plugin_register_refused_keys()): a configuration of @backend that
 * sets @key to anything but its default fails validation with
 * %HVK_ERROR_NOT_SUPPORTED naming the key, the backend and this reason.
 *
 * Returns: (transfer none) (nullable): why @backend refuses @key, or
 *   %NULL if it does not
 */
const char *
hvk_registry_lookup_refused_key (HvkRegistry *self,
                                 const char  *backend,
                                 const char  *key)
{
  g_autoptr(GPtrArray) refused = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  refused = hvk_registry_get_refused_keys (self, backend);
  for (guint i = 0; i < refused->len; i++)
    {
      const HvkRefusedKey *refusal = g_ptr_array_index (refused, i);

      if (g_str_equal (refusal->name, key))
        return refusal->reason;
    }
  return NULL;
}

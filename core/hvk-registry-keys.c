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
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *keys = g_ptr_array_new ();

  g_return_val_if_fail (HVK_IS_REGISTRY (self), keys);
  g_return_val_if_fail (backend != NULL, keys);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < self->config_keys.live->len; i++)
    {
      ConfigKeyEntry *entry = g_ptr_array_index (self->config_keys.live, i);

      if (g_str_equal (entry->backend, backend))
        g_ptr_array_add (keys, &entry->key);
    }
  return keys;
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


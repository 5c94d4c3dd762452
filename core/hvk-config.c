/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <math.h>

#include "hvk-config-private.h"

/**
 * HvkConfig:
 *
 * The configuration of one VM (Kata's `HypervisorConfig`): the backend
 * name, values of the configuration keys, the user's kernel parameters,
 * custom assets and cold-plugged devices.  Keys not set read as their
 * defaults.
 *
 * Threads: one configuration may serve many VMs in many threads (each
 * backend's create_vm() validates it).  Reads and hvk_config_validate()
 * may run at once: validations run one at a time and a valid
 * configuration is not changed by validating it again.  Setters must not
 * run while other threads use the configuration.
 */
G_DEFINE_FINAL_TYPE (HvkConfig, hvk_config, G_TYPE_OBJECT)

static const HvkValuesOwner config_values_owner;

static void
hvk_config_finalize (GObject *object)
{
  HvkConfig *self = HVK_CONFIG (object);

  g_free (self->backend);
  g_free (self->group);
  g_free (self->source);
  g_clear_object (&self->registry);
  hvk_values_free (self->store);
  g_hash_table_unref (self->backend_defaults);
  g_ptr_array_unref (self->kernel_params);
  for (gsize i = 0; i < G_N_ELEMENTS (self->custom_assets); i++)
    g_free (self->custom_assets[i]);
  g_ptr_array_unref (self->devices);
  g_free (self->vm_store_path);
  g_mutex_clear (&self->validate_lock);

  G_OBJECT_CLASS (hvk_config_parent_class)->finalize (object);
}

static void
hvk_config_class_init (HvkConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_config_finalize;
}

static void
hvk_config_init (HvkConfig *self)
{
  g_mutex_init (&self->validate_lock);
  self->store = hvk_values_new (&config_values_owner, self);
  self->backend_defaults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) hvk_value_free);
  self->kernel_params = hvk_params_new ();
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * hvk_config_new:
 * @backend: the backend name (`qemu`, `acrn`, …)
 *
 * Creates a configuration with every key at its default.
 *
 * Returns: (transfer full): a new #HvkConfig
 */
HvkConfig *
hvk_config_new (const char *backend)
{
  HvkConfig *self;

  g_return_val_if_fail (backend != NULL && *backend != '\0', NULL);

  self = g_object_new (HVK_TYPE_CONFIG, NULL);
  self->backend = g_strdup (backend);
  self->group = g_strconcat (HYPERVISOR_GROUP_DOT, backend, NULL);
  return self;
}

const char *
hvk_config_source_name (HvkConfig *self)
{
  return self->source ? self->source : UNKNOWN_SOURCE;
}

/**
 * hvk_config_get_backend:
 * @self: a #HvkConfig
 *
 * Gets the name of the backend the configuration selects (`[hypervisor]
 * backend`).
 *
 * Returns: the backend name
 */
const char *
hvk_config_get_backend (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->backend;
}

/**
 * hvk_config_get_source:
 * @self: a #HvkConfig
 *
 * Gets the file the configuration was loaded from.
 *
 * Returns: (nullable): the file the configuration was loaded from, as
 *   given, or %NULL when it was built in code
 */
const char *
hvk_config_get_source (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->source;
}

/**
 * hvk_config_get_group:
 * @self: a #HvkConfig
 *
 * Gets the key-file group that holds the backend's settings.
 *
 * Returns: the key-file group of the backend settings (`hypervisor.qemu`)
 */
const char *
hvk_config_get_group (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->group;
}

/**
 * hvk_config_get_registry:
 * @self: a #HvkConfig
 *
 * Gets the registry the configuration was loaded with.
 *
 * Returns: (transfer none) (nullable): the registry that resolves the
 *   backend's own keys, or %NULL
 */
HvkRegistry *
hvk_config_get_registry (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->registry;
}

/**
 * hvk_config_set_registry:
 * @self: a #HvkConfig
 * @registry: (nullable): a registry
 *
 * Sets the registry through which hvk_config_lookup_key() finds the keys
 * the backend declared (hvk_plugin_register_config_keys()).  Configurations
 * loaded from a file keep the registry they were loaded with.
 */
void
hvk_config_set_registry (HvkConfig   *self,
                         HvkRegistry *registry)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (registry == NULL || HVK_IS_LOOKUP (registry));

  if (g_set_object (&self->registry, registry))
    {
      hvk_values_lock (self->store);
      g_hash_table_remove_all (self->backend_defaults);
      hvk_values_unlock (self->store);
    }
}

/**
 * hvk_config_lookup_key:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Finds @key among the core keys, then among the keys the backend
 * declared through the configuration's registry.
 *
 * Returns: (transfer none) (nullable): the key, or %NULL if unknown
 */
const HvkConfigKey *
hvk_config_lookup_key (HvkConfig  *self,
                       const char *key)
{
  const HvkConfigKey *found;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  found = hvk_config_keys_lookup_core (key);
  if (found == NULL && self->registry != NULL)
    found = hvk_lookup_config_key (HVK_LOOKUP (self->registry), self->backend, key);
  return found;
}

/**
 * hvk_config_has_key:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Tells whether a key of the backend group has a value of its own.
 *
 * Returns: whether @key was set explicitly (by the file, a setter or
 *   validation); a default does not count
 */
gboolean
hvk_config_has_key (HvkConfig  *self,
                    const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return hvk_values_has (self->store, key);
}

/* ---- the value store's owner ---- */

static void
spec_from_key (const HvkConfigKey *key,
               HvkValueSpec       *spec)
{
  spec->name = key->name;
  spec->type = hvk_config_value_type_to_variant_type (key->type);
  spec->is_path = key->type == HVK_CONFIG_TYPE_PATH || key->type == HVK_CONFIG_TYPE_PATH_LIST;
  spec->handle = key;
}

static gboolean
config_describe (gpointer      owner,
                 const char   *name,
                 HvkValueSpec *spec)
{
  const HvkConfigKey *key = hvk_config_lookup_key (owner, name);

  if (key != NULL)
    spec_from_key (key, spec);
  return key != NULL;
}

/* Called with the store locked: it caches parsed backend defaults. */
static HvkValue *
config_get_default (gpointer            owner,
                    const HvkValueSpec *spec)
{
  HvkConfig *self = owner;
  const HvkConfigKey *key = spec->handle;
  HvkValue *value;
  GVariant *variant;
  g_autofree char *problem = NULL;

  if (hvk_config_keys_lookup_core (key->name) == key)
    return hvk_config_keys_core_default (key);
  if (key->default_value == NULL)
    return NULL;

  value = g_hash_table_lookup (self->backend_defaults, key->name);
  if (value != NULL)
    return value;
  variant = hvk_value_parse (spec->type, key->default_value, HVK_LIST_SYNTAX_KEY_FILE, &problem);
  if (variant == NULL)
    {
      g_warning ("backend %s: config key %s: bad default: %s", self->backend, key->name, problem);
      return NULL;
    }
  value = hvk_value_new (variant);
  g_hash_table_insert (self->backend_defaults, g_strdup (key->name), value);
  return value;
}

/* Unknown keys and type mismatches are programmer errors. */
static void
config_warn_unknown (gpointer    owner,
                     const char *func,
                     const char *name)
{
  g_critical ("%s: unknown configuration key '%s' (backend %s)", func, name,
              ((HvkConfig *) owner)->backend);
}

static void
config_warn_mistyped (gpointer    owner,
                      const char *func,
                      const char *name)
{
  g_critical ("%s: configuration key '%s' has another type", func, name);
}

/* Keeps the kernel parameter list in step with `kernel_params`. */
static void
config_changed (gpointer    owner,
                const char *name,
                GVariant   *value)
{
  HvkConfig *self = owner;

  if (!g_str_equal (name, KERNEL_PARAMS_KEY))
    return;
  g_ptr_array_unref (self->kernel_params);
  if (value != NULL)
    self->kernel_params = hvk_kernel_params_parse (g_variant_get_string (value, NULL));
  else
    self->kernel_params = hvk_params_new ();
}

static const HvkValuesOwner config_values_owner = {
  .describe = config_describe,
  .get_default = config_get_default,
  .warn_unknown = config_warn_unknown,
  .warn_mistyped = config_warn_mistyped,
  .changed = config_changed,
};

void
hvk_config_store_value (HvkConfig          *self,
                        const HvkConfigKey *key,
                        GVariant           *variant)
{
  HvkValueSpec spec;

  spec_from_key (key, &spec);
  hvk_values_store (self->store, &spec, variant);
}

/**
 * hvk_config_get_string:
 * @self: a #HvkConfig
 * @key: a string key
 *
 * Gets the value of a string key of the backend group.
 *
 * Returns: (nullable): the value, else the key's default, else %NULL
 */
const char *
hvk_config_get_string (HvkConfig  *self,
                       const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return hvk_values_get_string (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_boolean:
 * @self: a #HvkConfig
 * @key: a boolean key
 *
 * Gets the value of a boolean key of the backend group.
 *
 * Returns: the value, else the key's default, else %FALSE
 */
gboolean
hvk_config_get_boolean (HvkConfig  *self,
                        const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return hvk_values_get_boolean (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_uint:
 * @self: a #HvkConfig
 * @key: an unsigned integer key
 *
 * Gets the value of an unsigned integer key of the backend group.
 *
 * Returns: the value, else the key's default, else 0
 */
guint64
hvk_config_get_uint (HvkConfig  *self,
                     const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_uint (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_int:
 * @self: a #HvkConfig
 * @key: a signed integer key
 *
 * Gets the value of a signed integer key of the backend group.
 *
 * Returns: the value, else the key's default, else 0
 */
gint64
hvk_config_get_int (HvkConfig  *self,
                    const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_int (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_double:
 * @self: a #HvkConfig
 * @key: a floating point key
 *
 * Gets the value of a floating point key of the backend group.
 *
 * Returns: the value, else the key's default, else 0
 */
double
hvk_config_get_double (HvkConfig  *self,
                       const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_double (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_strv:
 * @self: a #HvkConfig
 * @key: a string-list key
 *
 * Gets the value of a string-list key of the backend group.
 *
 * Returns: (nullable) (transfer none) (array zero-terminated=1): the value,
 *   else the key's default, else %NULL; valid until @key is set again
 */
const char * const *
hvk_config_get_strv (HvkConfig  *self,
                     const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return hvk_values_get_strv (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_dup_value_string:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Formats the value of any key in key-file syntax (lists `;`-separated),
 * as `hvkit check` prints it.
 *
 * Returns: (transfer full) (nullable): the value or default as text, or
 *   %NULL when @key has neither
 */
char *
hvk_config_dup_value_string (HvkConfig  *self,
                             const char *key)
{
  HvkValue *value;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  value = hvk_values_get (self->store, key, NULL, G_STRFUNC);
  return value ? hvk_value_to_string (value->variant, HVK_LIST_SYNTAX_KEY_FILE) : NULL;
}

/**
 * hvk_config_set_string:
 * @self: a #HvkConfig
 * @key: a string key
 * @value: (nullable): the value, or %NULL to go back to the default
 *
 * Sets a string key.  Setting `kernel_params` parses it into the list
 * returned by hvk_config_get_kernel_params().
 */
void
hvk_config_set_string (HvkConfig  *self,
                       const char *key,
                       const char *value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_STRING,
                  value ? g_variant_new_string (value) : NULL, G_STRFUNC);
}

/**
 * hvk_config_set_boolean:
 * @self: a #HvkConfig
 * @key: a boolean key
 * @value: the value
 *
 * Sets a boolean key.
 */
void
hvk_config_set_boolean (HvkConfig  *self,
                        const char *key,
                        gboolean    value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_BOOLEAN,
                  g_variant_new_boolean (value), G_STRFUNC);
}

/**
 * hvk_config_set_uint:
 * @self: a #HvkConfig
 * @key: an unsigned integer key
 * @value: the value
 *
 * Sets an unsigned integer key.
 */
void
hvk_config_set_uint (HvkConfig  *self,
                     const char *key,
                     guint64     value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_UINT,
                  g_variant_new_uint64 (value), G_STRFUNC);
}

/**
 * hvk_config_set_int:
 * @self: a #HvkConfig
 * @key: a signed integer key
 * @value: the value
 *
 * Sets a signed integer key.
 */
void
hvk_config_set_int (HvkConfig  *self,
                    const char *key,
                    gint64      value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_INT,
                  g_variant_new_int64 (value), G_STRFUNC);
}

/**
 * hvk_config_set_double:
 * @self: a #HvkConfig
 * @key: a floating point key
 * @value: the value
 *
 * Sets a floating point key.
 */
void
hvk_config_set_double (HvkConfig  *self,
                       const char *key,
                       double      value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_DOUBLE,
                  g_variant_new_double (value), G_STRFUNC);
}

/**
 * hvk_config_set_strv:
 * @self: a #HvkConfig
 * @key: a string-list key
 * @value: (nullable) (array zero-terminated=1): the value, or %NULL to go
 *   back to the default
 *
 * Sets a string-list key.
 */
void
hvk_config_set_strv (HvkConfig          *self,
                     const char         *key,
                     const char * const *value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_STRV,
                  value ? g_variant_new_strv (value, -1) : NULL, G_STRFUNC);
}

gboolean
hvk_config_set_from_text (HvkConfig          *self,
                          const HvkConfigKey *key,
                          const char         *text,
                          GError            **error)
{
  g_autofree char *problem = NULL;
  HvkValueSpec spec;

  spec_from_key (key, &spec);
  if (!hvk_values_set_from_text (self->store, &spec, text, HVK_LIST_SYNTAX_KEY_FILE, &problem))
    {
      config_error (self, error, key->name, "%s", problem);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_config_set_from_string:
 * @self: a #HvkConfig
 * @key: a key name
 * @text: the value in key-file syntax (lists `;`-separated)
 * @error: return location for a #GError
 *
 * Parses @text by the type of @key and sets it.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_CONFIG when
 *   @key is unknown or @text is not a valid value
 */
gboolean
hvk_config_set_from_string (HvkConfig   *self,
                            const char  *key,
                            const char  *text,
                            GError     **error)
{
  const HvkConfigKey *k;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  k = hvk_config_lookup_key (self, key);
  if (k == NULL)
    return hvk_config_unknown_key (self, key, error);
  return hvk_config_set_from_text (self, k, text, error);
}

gboolean
hvk_config_unknown_key (HvkConfig   *self,
                        const char  *key,
                        GError     **error)
{
  const char *owner = NULL;

  if (self->registry != NULL)
    owner = hvk_lookup_find_key_owner (HVK_LOOKUP (self->registry), key);
  if (owner != NULL && !g_str_equal (owner, self->backend))
    g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                 "%s: [%s] %s: not supported by backend '%s' (a key of backend '%s')",
                 hvk_config_source_name (self), self->group, key, self->backend, owner);
  else
    config_error (self, error, key, "unknown key");
  return FALSE;
}

/* ---- vCPUs and kernel parameters ---- */

/**
 * hvk_round_up_num_vcpus:
 * @vcpus: a (possibly fractional) number of vCPUs
 *
 * Kata's RoundUpNumVCPUs: the ceiling of @vcpus.
 *
 * Returns: the number of whole vCPUs, 0 for values that are not positive
 */
guint32
hvk_round_up_num_vcpus (double vcpus)
{
  double up;

  if (!(vcpus > 0))   /* also NaN */
    return 0;
  up = ceil (vcpus);
  return up >= G_MAXUINT32 ? G_MAXUINT32 : (guint32) up;
}

/**
 * hvk_config_get_num_vcpus:
 * @self: a #HvkConfig
 *
 * Gets the number of vCPUs the VM boots with.
 *
 * Returns: `default_vcpus` rounded up
 */
guint32
hvk_config_get_num_vcpus (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  return hvk_round_up_num_vcpus (hvk_config_get_double (self, "default_vcpus"));
}

/**
 * hvk_config_get_kernel_params:
 * @self: a #HvkConfig
 *
 * The user's kernel parameters: `kernel_params` parsed, plus those added
 * with hvk_config_add_kernel_param().
 *
 * Returns: (transfer none) (element-type HvkParam): the parameters
 */
GPtrArray *
hvk_config_get_kernel_params (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->kernel_params;
}

/**
 * hvk_config_add_kernel_param:
 * @self: a #HvkConfig
 * @key: the parameter name
 * @value: (nullable): its value
 * @error: return location for a #GError
 *
 * Kata's AddKernelParam: appends a user kernel parameter (`kernel_params`
 * is updated to match).
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 *   (`Empty kernel parameter`) when @key is empty
 */
gboolean
hvk_config_add_kernel_param (HvkConfig   *self,
                             const char  *key,
                             const char  *value,
                             GError     **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (key == NULL || *key == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT, "Empty kernel parameter");
      return FALSE;
    }
  hvk_params_append (self->kernel_params, key, value ? value : "");
  text = hvk_params_to_string (self->kernel_params);
  /* Not stored as set: re-parsing could split a value with spaces. */
  hvk_values_insert (self->store, KERNEL_PARAMS_KEY, g_variant_new_string (text));
  return TRUE;
}

/* ---- devices ---- */

/**
 * hvk_config_get_devices:
 * @self: a #HvkConfig
 *
 * Gets the cold-plugged devices, one per `[device.ID]` group.
 *
 * Returns: (transfer none) (element-type HvkDevice): the cold-plugged
 *   devices, in file order
 */
GPtrArray *
hvk_config_get_devices (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->devices;
}

/**
 * hvk_config_lookup_device:
 * @self: a #HvkConfig
 * @id: a device id
 *
 * Finds a cold-plugged device by id.
 *
 * Returns: (transfer none) (nullable): the device with that id, or %NULL
 */
HvkDevice *
hvk_config_lookup_device (HvkConfig  *self,
                          const char *id)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < self->devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (self->devices, i);

      if (g_str_equal (hvk_device_get_id (device), id))
        return device;
    }
  return NULL;
}

/**
 * hvk_config_add_device:
 * @self: a #HvkConfig
 * @device: a device
 * @error: return location for a #GError
 *
 * Appends a cold-plugged device after validating it.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT when
 *   the device is invalid or its id is taken
 */
gboolean
hvk_config_add_device (HvkConfig  *self,
                       HvkDevice  *device,
                       GError    **error)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_device_validate (device, error))
    return FALSE;
  if (hvk_config_lookup_device (self, hvk_device_get_id (device)) != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s': id already used in %s", hvk_device_get_id (device),
                   hvk_config_source_name (self));
      return FALSE;
    }
  g_ptr_array_add (self->devices, g_object_ref (device));
  return TRUE;
}

/**
 * hvk_config_get_vm_store_path:
 * @self: a #HvkConfig
 *
 * Gets the state directory under which the VM keeps its runtime files
 * (sockets, pid file, saved state).
 *
 * Returns: (nullable): the directory for the VM's runtime files (a run-time
 *   setting, not a configuration key)
 */
const char *
hvk_config_get_vm_store_path (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->vm_store_path;
}

/**
 * hvk_config_set_vm_store_path:
 * @self: a #HvkConfig
 * @path: (nullable): a directory
 *
 * Sets the directory for the VM's runtime files.
 */
void
hvk_config_set_vm_store_path (HvkConfig  *self,
                              const char *path)
{
  g_return_if_fail (HVK_IS_CONFIG (self));

  g_free (self->vm_store_path);
  self->vm_store_path = g_strdup (path);
}


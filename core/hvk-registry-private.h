/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/stat.h>
#include <gmodule.h>
#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* What hvk-plugin.c and hvk-registry.c share.  None of this is exported:
 * the library is built with -fvisibility=hidden and these prototypes
 * carry no HVK_EXPORT. */

/* hvk-plugin.c: the registry creates plugins; @module may be NULL for a
 * plugin registered from a static descriptor.  The plugin keeps a plain
 * pointer to @registry, which owns it. */
HvkPlugin  *hvk_plugin_new_internal      (HvkRegistry         *registry,
                                          const HvkPluginDesc *desc,
                                          const char          *filename,
                                          GModule             *module);
GModule    *hvk_plugin_get_module        (HvkPlugin           *self);
/* The plugin's place in the scan order (0: none given): the registry
 * keeps every table in that order whichever plugin is loaded first. */
void        hvk_plugin_set_rank          (HvkPlugin           *self,
                                          guint                rank);
guint       hvk_plugin_get_rank          (HvkPlugin           *self);

/* hvk-registry.c: the tables behind the hvk_plugin_register_*() methods.
 * Each validates, records @plugin as the owner and returns an error on
 * refusal. */
gboolean hvk_registry_add_backend        (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          const char          *name,
                                          GType                type,
                                          HvkCapabilities      caps,
                                          GError             **error);
gboolean hvk_registry_add_device_kind    (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          HvkDeviceKind       *kind,
                                          GError             **error);
gboolean hvk_registry_add_device_appender (HvkRegistry        *self,
                                           HvkPlugin          *plugin,
                                           const char         *backend,
                                           const char         *kind,
                                           int                 priority,
                                           HvkDeviceAppendFunc func,
                                           gpointer            user_data,
                                           GError            **error);
gboolean hvk_registry_add_hotplug_handler (HvkRegistry        *self,
                                           HvkPlugin          *plugin,
                                           const char         *backend,
                                           const char         *kind,
                                           int                 priority,
                                           HvkHotplugFunc      func,
                                           gpointer            user_data,
                                           GError            **error);
gboolean hvk_registry_add_kernel_param_policy (HvkRegistry        *self,
                                               HvkPlugin          *plugin,
                                               const char         *backend,
                                               HvkKernelParamPhase phase,
                                               int                 priority,
                                               HvkKernelParamFunc  func,
                                               gpointer            user_data,
                                               GError            **error);
gboolean hvk_registry_add_config_keys    (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          const char          *backend,
                                          const HvkConfigKey  *keys,
                                          guint                n_keys,
                                          GError             **error);
gboolean hvk_registry_add_refused_keys   (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          const char          *backend,
                                          const HvkRefusedKey *keys,
                                          guint                n_keys,
                                          GError             **error);

/* `[a-z0-9_-]+`: plugin and backend names. */
gboolean hvk_registry_name_is_valid      (const char          *name);

/* hvk-registry-cache.c: the plugin cache (see hvk_registry_scan()).
 *
 * One plugin file found by a scan, with what the cache says it provides:
 * enough to load it only when one of its features is asked for. */
typedef struct
{
  char *path;          /* DIR/NAME.so, as the scan built it */
  gint64 size;
  gint64 mtime_ns;
  guint rank;          /* scan order, from 1 */
  gboolean attempted;  /* loaded, or its load tried */
  HvkPlugin *plugin;   /* borrowed, once loaded */

  /* From the cache, or filled from the tables before writing it. */
  char *name;
  char *description;
  char *version;
  char *license;
  GPtrArray *backends;           /* char *: backends it registers */
  GArray *backend_caps;          /* HvkCapabilities, same order */
  GPtrArray *kinds;              /* char *: device kinds it registers */
  GPtrArray *appender_backends;  /* char *, pairs with appender_kinds */
  GPtrArray *appender_kinds;     /* char * */
  GPtrArray *policy_backends;    /* char *; "" stands for all backends */
  GPtrArray *key_backends;       /* char *: backends it declares keys for */
} HvkRegistryCandidate;

HvkRegistryCandidate *hvk_registry_candidate_new  (const char        *path,
                                                   const struct stat *st,
                                                   guint              rank);
void                  hvk_registry_candidate_free (HvkRegistryCandidate *candidate);

/* The cache file: `HVKIT_REGISTRY_CACHE` (absolute path; `none` or empty:
 * no cache), else $XDG_CACHE_HOME/hvkit/registry-ARCH.cache.  NULL when
 * disabled. */
char     *hvk_registry_cache_get_path (void);

/* Fills the cached fields of @candidates (the files the scan found, in
 * order) from @path.  FALSE, quietly (g_debug), when the file is missing,
 * untrusted (not ours, or writable by others), corrupt, of another hvkit
 * or plugin ABI version, or lists other files or other sizes or mtimes. */
gboolean  hvk_registry_cache_read     (const char *path,
                                       GPtrArray  *candidates);

/* Writes @candidates (all loaded, fields filled) to @path atomically,
 * mode 0600, creating its directory 0700.  Failure is only logged. */
void      hvk_registry_cache_write    (const char *path,
                                       GPtrArray  *candidates);

/* ---- what the hvk-registry*.c files share ---- */

/* Every table entry starts with its owner, so one function can roll back
 * whatever a refused plugin registered. */
typedef struct
{
  HvkPlugin *owner;  /* unowned; NULL for the core's own entries */
} Entry;

struct _HvkBackendInfo
{
  HvkPlugin *owner;
  char *name;
  GType type;
  HvkCapabilities caps;
};

typedef struct
{
  HvkPlugin *owner;
  HvkDeviceKind *kind;
} KindEntry;

typedef struct
{
  HvkPlugin *owner;
  char *backend;
  char *kind;
  int priority;
  guint64 seq;
  GCallback func;     /* HvkDeviceAppendFunc or HvkHotplugFunc */
  gpointer user_data;
} AppenderEntry;      /* also a hotplug handler's: (backend, kind) → func */

typedef struct
{
  HvkPlugin *owner;
  char *backend;  /* NULL: every backend */
  HvkKernelParamPhase phase;
  int priority;
  guint64 seq;
  HvkKernelParamFunc func;
  gpointer user_data;
} PolicyEntry;

typedef struct
{
  HvkPlugin *owner;
  char *backend;
  HvkConfigKey key;  /* strings owned */
} ConfigKeyEntry;

typedef struct
{
  HvkPlugin *owner;
  char *backend;
  HvkRefusedKey key; /* strings owned */
} RefusedKeyEntry;

/* A table in registration order.  Entries rolled back are moved to
 * @retired rather than freed: lookups hand out borrowed pointers, which
 * must stay valid for the registry's lifetime. */
typedef struct
{
  GPtrArray *live;
  GPtrArray *retired;
} Table;

struct _HvkRegistry
{
  GObject parent_instance;

  GMutex lock;          /* the tables below */
  GRecMutex load_lock;  /* one plugin load (and init) at a time */

  GPtrArray *plugins;        /* HvkPlugin, loaded and initialised */
  GHashTable *plugin_paths;  /* real path -> HvkPlugin (borrowed) */
  GPtrArray *refusals;       /* GError */
  guint64 next_seq;

  GPtrArray *candidates;     /* HvkRegistryCandidate: files scans found */
  guint next_rank;           /* scan order of the next plugin, from 1 */
  gint n_pending;            /* atomic: candidates known from the cache
                              * only, not loaded yet */

  Table backends;    /* HvkBackendInfo */
  Table kinds;       /* KindEntry */
  Table appenders;   /* AppenderEntry */
  Table hotplug;     /* AppenderEntry, of HvkHotplugFunc */
  Table policies;    /* PolicyEntry */
  Table config_keys; /* ConfigKeyEntry */
  Table refused_keys; /* RefusedKeyEntry */
  guint32 standard_kinds_built;  /* bit i: standard kind i is in kinds
                                  * (they come first, in order) */
};

/* What a lookup needs loaded. */
typedef enum
{
  HVK_REGISTRY_NEED_ALL,
  HVK_REGISTRY_NEED_BACKEND,  /* what registers the backend or anything for it */
  HVK_REGISTRY_NEED_KIND,     /* what registers the device kind */
  HVK_REGISTRY_NEED_PLUGIN,   /* the plugin of that name */
} HvkRegistryNeed;

/* hvk-registry-load.c: loads the plugins the cache says provide @need
 * @name and have not been loaded yet. */
void            hvk_registry_ensure_loaded     (HvkRegistry     *self,
                                                HvkRegistryNeed  need,
                                                const char      *name);

/* hvk-registry.c: the tables, called with the lock held. */
void            hvk_registry_table_retire_owned_by (Table     *table,
                                                    HvkPlugin *owner);
/* Adds @entry in rank order (a plugin's rank, then registration order). */
void            hvk_registry_table_add         (Table       *table,
                                                gpointer     entry);
/* The plugin's name for messages, "hvkit" for the core. */
const char     *hvk_registry_owner_name        (HvkPlugin   *owner);
/* A backend name a plugin may register things for ([a-z0-9_-]+). */
gboolean        hvk_registry_check_backend_name (HvkPlugin   *plugin,
                                                 const char  *what,
                                                 const char  *name,
                                                 GError     **error);
HvkBackendInfo *hvk_registry_find_backend      (HvkRegistry *self,
                                                const char  *name);
AppenderEntry  *hvk_registry_find_kind_handler (Table       *table,
                                                const char  *backend,
                                                const char  *kind);
AppenderEntry  *hvk_registry_find_appender     (HvkRegistry *self,
                                                const char  *backend,
                                                const char  *kind);
HvkPlugin      *hvk_registry_find_plugin       (HvkRegistry *self,
                                                const char  *name);

G_END_DECLS

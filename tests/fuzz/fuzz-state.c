/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

/* The VM state loader: the input is a VM's state.json in a temporary
 * store, taken over with hvk_vm_store_load_hypervisor() and the mock, QEMU
 * and ACRN backends linked in (a version 2 envelope, or a version 1 file
 * converted on load).  Then each backend's load_state() is fed the input's
 * "hypervisor" member (or the whole input) directly, past the store's own
 * checks: the core's conversion of the version 1 layout, then the
 * backend's load_private.  A loaded VM saves its state again and
 * describes itself; the description a state file keeps is checked
 * against its witnesses (hvk_vm_store_describe_from_state()).  Nothing here
 * starts, signals or connects to anything. */

#define FUZZ_VM_ID "fuzz"

static char *store;
static char *state_path;

static void
cleanup (void)
{
  g_autofree char *vm_dir = NULL;

  if (store == NULL)
    return;
  vm_dir = g_build_filename (store, FUZZ_VM_ID, NULL);
  g_unlink (state_path);
  {
    g_autoptr(GDir) dir = g_dir_open (vm_dir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (vm_dir, name, NULL);
        g_unlink (path);
      }
  }
  g_rmdir (vm_dir);
  g_rmdir (store);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *vm_dir = NULL;

  fuzz_setup_logging ();
  fuzz_get_full_registry ();
  store = g_dir_make_tmp ("hvk-fuzz-state-XXXXXX", &error);
  if (store == NULL)
    g_error ("%s", error->message);
  vm_dir = g_build_filename (store, FUZZ_VM_ID, NULL);
  if (g_mkdir (vm_dir, 0700) < 0)
    g_error ("mkdir %s: %s", vm_dir, g_strerror (errno));
  state_path = g_build_filename (vm_dir, HVK_VM_STATE_FILE, NULL);
  atexit (cleanup);
  return 0;
}

static void
exercise (HvkHypervisor *hypervisor)
{
  g_autoptr(JsonNode) saved = hvk_hypervisor_save_state (hypervisor);
  g_autofree char *text = NULL;

  fuzz_check (saved != NULL, "a loaded VM saves its state");
  text = json_to_string (saved, FALSE);
  (void) hvk_hypervisor_get_state (hypervisor);
  (void) hvk_hypervisor_capabilities (hypervisor);
  (void) hvk_hypervisor_get_total_memory_mb (hypervisor);
  {
    g_autoptr(JsonNode) description = hvk_hypervisor_describe (hypervisor, FALSE);

    fuzz_check (description != NULL && JSON_NODE_HOLDS_OBJECT (description),
                "a loaded VM describes itself");
  }
}

static void
load_direct (const char *backend,
             JsonNode   *state)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=%s\n", backend);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;

  config = hvk_config_new_from_data (text, -1, "<fuzz>", fuzz_get_full_registry (), &error);
  if (config == NULL)
    g_error ("%s", error->message);
  hvk_config_set_vm_store_path (config, store);
  hypervisor = hvk_registry_create_hypervisor (fuzz_get_full_registry (), config, &error);
  if (hypervisor == NULL)
    g_error ("%s", error->message);
  if (hvk_hypervisor_load_state (hypervisor, state, &error))
    exercise (hypervisor);
  else
    fuzz_check (error != NULL, "a failed load_state sets an error");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  static const char * const backends[] = { "mock", "qemu", "acrn" };
  g_autofree char *text = fuzz_dup_string (data, size);

  if (!g_file_set_contents (state_path, text, size, &error))
    g_error ("%s", error->message);
  hypervisor = hvk_vm_store_load_hypervisor (store, FUZZ_VM_ID, fuzz_get_full_registry (), &error);
  if (hypervisor != NULL)
    exercise (hypervisor);
  else
    fuzz_check (error != NULL, "a failed load sets an error");
  g_clear_object (&hypervisor);

  if (json_parser_load_from_data (parser, text, size, NULL)
      && json_parser_get_root (parser) != NULL)
    {
      JsonNode *root = json_parser_get_root (parser);
      JsonNode *state = root;
      g_autoptr(JsonNode) description = hvk_vm_store_describe_from_state (root);

      fuzz_check (description == NULL || JSON_NODE_HOLDS_OBJECT (description),
                  "a description kept in a state file is an object");

      if (JSON_NODE_HOLDS_OBJECT (root)
          && json_object_has_member (json_node_get_object (root), "hypervisor"))
        state = json_object_get_member (json_node_get_object (root), "hypervisor");
      for (guint i = 0; i < G_N_ELEMENTS (backends); i++)
        load_direct (backends[i], state);
    }
  return 0;
}

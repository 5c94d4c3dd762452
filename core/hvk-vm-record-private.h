/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

HvkVmRecord *hvk_vm_record_new  (const char  *id,
                                 const char  *backend,
                                 HvkVmState   state,
                                 HvkConfig   *config);
void         hvk_vm_record_free (HvkVmRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkVmRecord, hvk_vm_record_free)

/* The state file, version 2: {"version", "id", "backend", "state",
 * "config", "cold_devices", "launch": {"argv", "kernel_cmdline", "uuid"},
 * "processes": [{"role", "pid", "start_time"}], "paths": {NAME: PATH},
 * "private": the backend's part}; hvk-vm-state.c adds "status", the VM's
 * description (hvk-vm-describe.c), when the record names its witnesses. */
JsonNode    *hvk_vm_record_to_envelope   (HvkVmRecord  *record,
                                          JsonNode     *private_state);
/* Reads the members after "version" and "id" (which the caller checked)
 * into a record around @config; *@private_state is the backend's part. */
HvkVmRecord *hvk_vm_record_from_envelope (JsonObject   *object,
                                          HvkConfig    *config,
                                          HvkRegistry  *registry,
                                          JsonNode    **private_state,
                                          GError      **error);

/* What hvk_vm_record_to_v1() writes: everything, or (for `hvkit
 * status`) the top-level scalars only — no configuration text, launch
 * argv, devices or the backend's nested values. */
typedef enum
{
  HVK_VM_RECORD_VIEW_FULL,
  HVK_VM_RECORD_VIEW_SUMMARY,
} HvkVmRecordView;

/* The previous release's layout (state version 1), where the backend
 * wrote everything in one object (the file's "hypervisor" member): the
 * one place that knows it.  hvk_hypervisor_save_state() still answers in
 * it (`hvkit status` lists its scalars). */
JsonNode    *hvk_vm_record_to_v1   (HvkVmRecord    *record,
                                    JsonNode       *private_state,
                                    HvkVmRecordView view);
/* @config: the configuration already built, or %NULL to build it from
 * the object's "config" (or "saved_config"."data") with @source. */
HvkVmRecord *hvk_vm_record_from_v1 (JsonObject   *object,
                                    const char   *backend,
                                    HvkConfig    *config,
                                    HvkRegistry  *registry,
                                    const char   *source,
                                    JsonNode    **private_state,
                                    GError      **error);

G_END_DECLS

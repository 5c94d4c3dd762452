/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HVK_ERROR:
 *
 * Error domain for hvkit.  Errors in this domain are from the #HvkError
 * enumeration.
 */
#define HVK_ERROR (hvk_error_quark ())

/**
 * HvkError:
 * @HVK_ERROR_FAILED: generic failure (a VMM or system call failed)
 * @HVK_ERROR_INVALID_CONFIG: a configuration value is invalid or missing;
 *   the message names file, group and key
 * @HVK_ERROR_NOT_SUPPORTED: the backend does not support the operation;
 *   the message names backend and operation
 * @HVK_ERROR_NOT_FOUND: a backend, plugin, device, VM or file was not found
 * @HVK_ERROR_PLUGIN: a plugin was refused (ABI, descriptor, init, name taken)
 * @HVK_ERROR_TIMEOUT: an operation did not complete within its bound
 * @HVK_ERROR_STATE: the VM is not in a state that allows the operation
 * @HVK_ERROR_BUSY: another process or thread holds the VM
 * @HVK_ERROR_INVALID_ARGUMENT: an argument (device string, parameter, id)
 *   is invalid
 * @HVK_ERROR_QMP: the VMM's monitor answered with an error
 * @HVK_ERROR_DISCONNECTED: the connection to the VMM was lost
 *
 * Error codes in the %HVK_ERROR domain.  The list is append-only.
 */
typedef enum {
  HVK_ERROR_FAILED,
  HVK_ERROR_INVALID_CONFIG,
  HVK_ERROR_NOT_SUPPORTED,
  HVK_ERROR_NOT_FOUND,
  HVK_ERROR_PLUGIN,
  HVK_ERROR_TIMEOUT,
  HVK_ERROR_STATE,
  HVK_ERROR_BUSY,
  HVK_ERROR_INVALID_ARGUMENT,
  HVK_ERROR_QMP,
  HVK_ERROR_DISCONNECTED,
} HvkError;

HVK_AVAILABLE_IN_ALL
GQuark hvk_error_quark (void);

G_END_DECLS

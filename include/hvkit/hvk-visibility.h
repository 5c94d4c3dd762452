/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#define HVK_EXPORT __attribute__((visibility ("default")))

/* Marks every public prototype: the library is built with
 * -fvisibility=hidden and only these symbols are exported. */
#define HVK_AVAILABLE_IN_ALL HVK_EXPORT extern

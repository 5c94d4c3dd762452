/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the fuzz targets: each target is one LLVMFuzzerTestOneInput();
 * fuzz-main.c runs it over corpus files when libFuzzer is not linked. */

#include <hvkit/hvkit.h>

#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int  LLVMFuzzerInitialize  (int *argc, char ***argv);
int  LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Criticals, warnings and errors abort() (so libFuzzer keeps the input):
 * reaching a g_return_if_fail() from input is a bug.  Debug output is
 * dropped to keep the fuzzer fast. */
void          fuzz_setup_logging   (void);

/* A registry with the mock, QEMU and ACRN backends linked in (registered
 * as static plugins, as their plugin entry files do), created once. */
HvkRegistry  *fuzz_get_full_registry (void);

/* A registry with no plugins: the standard kinds and core keys only. */
HvkRegistry  *fuzz_get_empty_registry (void);

/* A NUL-terminated copy of @data (which may be %NULL when @size is 0);
 * string parsers see it up to its first NUL. */
char         *fuzz_dup_string      (const uint8_t *data,
                                    size_t         size);

/* Aborts with @what when @condition does not hold: an invariant the
 * fuzzer checks beyond "no crash". */
#define fuzz_check(condition, what)                                      \
  G_STMT_START {                                                         \
    if (!(condition))                                                    \
      g_error ("%s:%d: invariant failed: %s", __FILE__, __LINE__, what); \
  } G_STMT_END

G_END_DECLS

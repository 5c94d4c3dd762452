/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Whether a golden test compares with its expected files or rewrites
 * them.  Rewriting is explicit: `ninja -C BUILD regenerate-goldens` (or
 * `meson compile -C BUILD regenerate-goldens`) runs the golden programs
 * with HVKIT_TEST_REGENERATE=1 and HVKIT_TEST_REGENERATE_OK=1.
 * HVKIT_TEST_REGENERATE=1 alone (left over in a shell) and any
 * regeneration while CI is set fail the case instead of rewriting.
 */

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HVK_TEST_GOLDEN_COMPARE,
  HVK_TEST_GOLDEN_REGENERATE,
  HVK_TEST_GOLDEN_REFUSED,    /* the current case failed: write nothing */
} HvkTestGoldenMode;

/* Call from inside a test case: on REFUSED it has failed the case with
 * the reason. */
HvkTestGoldenMode hvk_test_golden_mode       (void);
/* Writes @contents to @path, loudly (a regeneration is reviewed). */
void              hvk_test_golden_regenerate (const char *path,
                                              const char *contents);
/* Fails the current case naming every NAME.SUFFIX in @dir (for each of
 * the %NULL-terminated @suffixes, e.g. ".args") whose NAME.conf does not
 * exist: an expected file left behind by a removed or renamed case is
 * compared with nothing and would otherwise rot unnoticed. */
void              hvk_test_golden_check_orphans (const char         *dir,
                                                 const char * const *suffixes);

G_END_DECLS

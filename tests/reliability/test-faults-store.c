/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"
#include <hvkit/hvkit.h>
int main (int argc, char **argv) { g_test_init (&argc, &argv, NULL); return g_test_run (); }

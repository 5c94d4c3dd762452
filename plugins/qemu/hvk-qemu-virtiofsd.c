/* SPDX-License-Identifier: Apache-2.0 */
/* STUB: to be implemented */
#include "config.h"
#include "hvk-qemu-private.h"

/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#define HVKIT_INSIDE
#include <hvkit/hvk-version.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-error.h>
#include <hvkit/hvk-param.h>
#include <hvkit/hvk-capabilities.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>
#include <hvkit/hvk-io-limits.h>
#include <hvkit/hvk-cmdline.h>
#include <hvkit/hvk-build-context.h>
#include <hvkit/hvk-stats.h>
#include <hvkit/hvk-hypervisor.h>
#include <hvkit/hvk-plugin.h>
#include <hvkit/hvk-registry.h>
#include <hvkit/hvk-json.h>
#include <hvkit/hvk-vm-record.h>
#include <hvkit/hvk-vm-store.h>
#include <hvkit/hvk-process.h>
#include <hvkit/hvk-cgroup.h>
#undef HVKIT_INSIDE

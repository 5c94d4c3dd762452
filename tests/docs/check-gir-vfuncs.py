#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Every virtual method in the GIR is documented (what `gi-docgen check`
leaves out: it checks functions, types and their members, not vfuncs).

usage: check-gir-vfuncs.py GIRFILE

g-ir-scanner documents a vfunc with its wrapper's doc comment
(hvk_hypervisor_start_vm() for HvkHypervisorInterface.start_vm), and
tests/docs/check-docs.py checks the `@member:` line of the interface
struct; a vfunc without a documented wrapper has neither here, and its
page in the reference would be empty.  Also checks the public fields of
the plain structs (HvkPluginDesc, HvkMemoryDevice …).

Exits 0 when everything is documented, 1 otherwise (2 on usage errors).
"""

import sys
import xml.etree.ElementTree as ET

CORE = "{http://www.gtk.org/introspection/core/1.0}"
GLIB = "{http://www.gtk.org/introspection/glib/1.0}"


def documented(element):
    doc = element.find(CORE + "doc")
    return doc is not None and (doc.text or "").strip() != ""


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    namespace = ET.parse(argv[1]).getroot().find(CORE + "namespace")
    missing = []
    for kind in ("interface", "class"):
        for owner in namespace.findall(CORE + kind):
            for vfunc in owner.findall(CORE + "virtual-method"):
                if not documented(vfunc):
                    missing.append("vfunc %s.%s" % (owner.get("name"), vfunc.get("name")))
    for record in namespace.findall(CORE + "record"):
        # Class and interface structs: their vfuncs are checked above,
        # their parent member is G_DECLARE_*()'s.
        if record.get(GLIB + "is-gtype-struct-for") is not None:
            continue
        for field in record.findall(CORE + "field"):
            if field.get("private") == "1" or field.get("name").startswith("_"):
                continue
            if not documented(field):
                missing.append("field %s.%s" % (record.get("name"), field.get("name")))
    for what in missing:
        print("undocumented %s" % what, file=sys.stderr)
    if missing:
        return 1
    print("every vfunc and public struct field of %s is documented" % namespace.get("name"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

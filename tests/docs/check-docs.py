#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Every public symbol has a gtk-doc comment (what gi-docgen would need).

usage: check-docs.py SOURCE_ROOT

Checks, and names on stderr each one that fails:

- every function declared after HVK_AVAILABLE_IN_ALL in
  include/hvkit/*.h has a `/**` block whose first line is ` * NAME:`,
  in core/ or include/hvkit/ (a .c or a .h).  GObject boilerplate is
  left out: G_DECLARE_*() and *_get_type() (the type's own doc says it);
- every public member of every `struct _NAME { ... }` and
  `typedef struct { ... } NAME` in include/hvkit/*.h (an interface's
  vfuncs, its parent; a plain struct's fields) has an `@member:` line in
  the ` * NAME:` doc block.  Members after
  `/*< private >*/` are not checked.

Exits 0 when everything is documented, 1 otherwise (2 on usage errors).
"""

import glob
import os
import re
import sys

# `/**` then ` * NAME:` (a symbol, or a struct/enum name); annotations may
# follow the colon.
DOC_BLOCK = re.compile(r"/\*\*[ \t]*\n[ \t]*\*[ \t]+([A-Za-z_][A-Za-z0-9_]*):(.*?)\*/",
                       re.DOTALL)
COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
PROTOTYPE = re.compile(r"HVK_AVAILABLE_IN_ALL\s+([^;{]*?)\b([A-Za-z_][A-Za-z0-9_]*)\s*\(",
                       re.DOTALL)
STRUCT = re.compile(r"^struct\s+_([A-Za-z_][A-Za-z0-9_]*)\s*\{(.*?)^\};", re.DOTALL | re.MULTILINE)
TYPEDEF_STRUCT = re.compile(r"^typedef\s+struct\s*(?:_[A-Za-z0-9_]+\s*)?\{(.*?)^\}\s*([A-Za-z_][A-Za-z0-9_]*)\s*;",
                            re.DOTALL | re.MULTILINE)
PRIVATE = re.compile(r"/\*<\s*private\s*>\*/")
# `(*name) (` for a vfunc, else the last identifier of a declaration
# (`GTypeInterface g_iface`, `int x[4]`).
VFUNC_MEMBER = re.compile(r"\(\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)")
PLAIN_MEMBER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*$")
MEMBER_DOC = re.compile(r"^[ \t]*\*[ \t]+@([A-Za-z_][A-Za-z0-9_]*):", re.MULTILINE)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def doc_blocks(paths):
    """NAME -> the text of its doc block, over every file in @paths."""
    blocks = {}
    for path in paths:
        for m in DOC_BLOCK.finditer(read(path)):
            blocks.setdefault(m.group(1), m.group(2))
    return blocks


def public_functions(header_text):
    """The functions declared after HVK_AVAILABLE_IN_ALL, in order."""
    names = []
    for m in PROTOTYPE.finditer(COMMENT.sub("", header_text)):
        name = m.group(2)
        if name.startswith("G_DECLARE_") or name.endswith("_get_type"):
            continue
        names.append(name)
    return names


def public_structs(header_text):
    """(NAME, [members]) for each `struct _NAME { ... };` and
    `typedef struct { ... } NAME;`, members before `/*< private >*/`
    only."""
    structs = []
    found = [(m.group(1), m.group(2)) for m in STRUCT.finditer(header_text)]
    found += [(m.group(2), m.group(1)) for m in TYPEDEF_STRUCT.finditer(header_text)]
    for name, body in found:
        body = PRIVATE.split(body)[0]
        body = COMMENT.sub("", body)
        members = []
        for decl in body.split(";"):
            decl = decl.strip()
            if not decl:
                continue
            vfunc = VFUNC_MEMBER.search(decl)
            if vfunc:
                members.append(vfunc.group(1))
                continue
            plain = PLAIN_MEMBER.search(decl)
            if plain:
                members.append(plain.group(1))
        structs.append((name, members))
    return structs


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = argv[1]
    headers = sorted(glob.glob(os.path.join(root, "include", "hvkit", "*.h")))
    sources = headers + sorted(glob.glob(os.path.join(root, "core", "*.[ch]")))
    if not headers:
        print(f"check-docs: no headers under {root}/include/hvkit", file=sys.stderr)
        return 2
    blocks = doc_blocks(sources)

    missing = []
    n_functions = n_members = 0
    for header in headers:
        rel = os.path.relpath(header, root)
        text = read(header)
        for name in public_functions(text):
            n_functions += 1
            if name not in blocks:
                missing.append(f"{rel}: function {name}() has no gtk-doc comment "
                               f"(/**\\n * {name}:)")
        for struct, members in public_structs(text):
            if struct not in blocks:
                missing.append(f"{rel}: struct {struct} has no gtk-doc comment "
                               f"(/**\\n * {struct}:)")
                documented = set()
            else:
                documented = set(MEMBER_DOC.findall(blocks[struct]))
            for member in members:
                n_members += 1
                if member not in documented:
                    missing.append(f"{rel}: {struct}.{member} is not documented "
                                   f"(@{member}: in the {struct} doc comment)")

    # A checker that finds nothing to check is broken, not green.
    if n_functions == 0:
        print("check-docs: found no HVK_AVAILABLE_IN_ALL prototypes", file=sys.stderr)
        return 1

    for line in missing:
        print(line, file=sys.stderr)
    print(f"check-docs: {n_functions} public functions, {n_members} struct members, "
          f"{len(missing)} undocumented")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

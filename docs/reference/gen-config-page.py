#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fills configuration.md.in with the tables hvkit-doc-data printed (the
same data as hvkit.conf(5)'s, see docs/man/gen-conf-page.py), as
Markdown for gi-docgen.

usage: gen-config-page.py TEMPLATE DATA.json OUTPUT
"""

import json
import sys


def cell(text):
    """Free text in a Markdown table cell."""
    return (text or "").replace("|", "\\|").replace("\n", " ").rstrip(".")


def default(value):
    if value is None:
        return ""
    return "`%s`" % value if value else "empty"


def key_table(keys):
    rows = ["| key | type | default | description |",
            "| --- | --- | --- | --- |"]
    rows += ["| `%s` | %s | %s | %s |" % (k["name"], k["type"], cell(default(k.get("default"))),
                                          cell(k["description"]))
             for k in keys]
    return "\n".join(rows)


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    template_path, data_path, out_path = sys.argv[1:4]
    with open(template_path, encoding="utf-8") as f:
        template = f.read()
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)

    backends = "\n".join("- `%s`: %s." % (b["name"], cell(b["description"]))
                         for b in sorted(data["backends"], key=lambda b: b["name"]))

    by_backend = {}
    for k in data["backend_keys"]:
        by_backend.setdefault(k["backend"], []).append(k)
    parts = []
    for backend in sorted(by_backend):
        parts.append("### `[hypervisor.%s]`\n\n%s\n" % (backend, key_table(by_backend[backend])))
    backend_keys = "\n".join(parts) if parts else "None."

    parts = []
    for kind in sorted(data["device_kinds"], key=lambda k: k["name"]):
        parts.append("### `kind=%s`\n" % kind["name"])
        parts.append("%s. Cold plug: %s. Hot plug: %s.\n" % (
            cell(kind["description"]),
            ", ".join(kind["cold_plug"]) or "none",
            ", ".join(kind["hot_plug"]) or "none"))
        rows = ["| property | type | default | description |",
                "| --- | --- | --- | --- |"]
        for p in kind["props"]:
            attrs = [p["type"]]
            if p["required"]:
                attrs.append("required")
            if p["path"]:
                attrs.append("a path")
            rows.append("| `%s` | %s | %s | %s |" % (p["name"], ", ".join(attrs),
                                                     cell(default(p.get("default"))),
                                                     cell(p["description"])))
        parts.append("\n".join(rows) + "\n")
    kinds = "\n".join(parts)

    page = (template.replace("@BACKENDS@", backends)
            .replace("@CORE_KEYS@", key_table(data["core_keys"]))
            .replace("@BACKEND_KEYS@", backend_keys.rstrip("\n"))
            .replace("@DEVICE_KINDS@", kinds.rstrip("\n")))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fills hvkit.conf.5.scd.in with the tables hvkit-doc-data printed.

usage: gen-conf-page.py TEMPLATE DATA.json OUTPUT
"""

import json
import sys


def esc(text):
    """Escape scdoc's formatting characters in free text."""
    return (text.replace("\\", "\\\\").replace("*", "\\*")
            .replace("_", "\\_"))


def key_entry(key, knows, refusals):
    head = "*%s* (%s" % (esc(key["name"]), esc(key["type"]))
    if key.get("default") is not None:
        head += (", default: _%s_" % esc(key["default"])) if key["default"] else ", default: empty"
    head += ")"
    desc = esc(key["description"] or "").rstrip(".")
    text = "%s\n\t%s. Known to: %s." % (head, desc, knows)
    refused = refusals.get(key["name"], [])
    if refused:
        text += " Refused (an error, when set to anything but the default) by %s." % "; ".join(
            "*%s* (%s)" % (esc(backend), esc(reason)) for backend, reason in refused)
    return text + "\n"


def main():
    template_path, data_path, out_path = sys.argv[1:4]
    with open(template_path, encoding="utf-8") as f:
        template = f.read()
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)

    backends = sorted(b["name"] for b in data["backends"])
    backends_text = "\n".join(
        "*%s*\n\t%s.\n" % (esc(b["name"]), esc(b["description"] or "").rstrip("."))
        for b in sorted(data["backends"], key=lambda b: b["name"]))

    refusals = {}
    for b in sorted(data["backends"], key=lambda b: b["name"]):
        for r in b.get("refused_keys", []):
            refusals.setdefault(r["name"], []).append((b["name"], r["reason"]))

    core_text = "\n".join(
        key_entry(k, "all backends", refusals)
        for k in data["core_keys"])

    by_backend = {}
    for k in data["backend_keys"]:
        by_backend.setdefault(k["backend"], []).append(k)
    parts = []
    for backend in sorted(by_backend):
        parts.append("## [hypervisor.%s]\n" % esc(backend))
        parts.extend(key_entry(k, "%s only" % esc(backend), refusals) for k in by_backend[backend])
    backend_text = "\n".join(parts) if parts else "None.\n"

    parts = []
    for kind in sorted(data["device_kinds"], key=lambda k: k["name"]):
        parts.append("## kind=%s\n\n%s.\n" % (esc(kind["name"]),
                                               esc(kind["description"] or "").rstrip(".")))
        parts.append("Cold plug: %s. Hot plug: %s.\n" % (
            ", ".join(esc(b) for b in kind["cold_plug"]) or "none",
            ", ".join(esc(b) for b in kind["hot_plug"]) or "none"))
        for p in kind["props"]:
            attrs = [esc(p["type"])]
            if p["required"]:
                attrs.append("required")
            if p["path"]:
                attrs.append("a path")
            if p.get("default") is not None:
                attrs.append(("default: _%s_" % esc(p["default"])) if p["default"] else "default: empty")
            parts.append("*%s* (%s)\n\t%s.\n" % (esc(p["name"]), ", ".join(attrs),
                                                 esc(p["description"] or "").rstrip(".")))
    kinds_text = "\n".join(parts)

    page = (template.replace("@BACKENDS@", backends_text.rstrip("\n"))
            .replace("@CORE_KEYS@", core_text.rstrip("\n"))
            .replace("@BACKEND_KEYS@", backend_text.rstrip("\n"))
            .replace("@DEVICE_KINDS@", kinds_text.rstrip("\n")))
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()

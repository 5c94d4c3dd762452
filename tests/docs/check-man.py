#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The man pages document every command, option and key.

usage: check-man.py HVKIT HVKIT_1_SCD HVKIT_CONF_5_SCD DOC_DATA_JSON [ROFF...]

Fails (naming each omission on stderr) unless:

- every command `hvkit --help` lists (the tool's command table) has an
  entry `*COMMAND*` under COMMANDS in hvkit(1), every option its
  `hvkit COMMAND --help` lists is named in that entry, every global option
  is under GLOBAL OPTIONS, the exit statuses 0, 1 and 2 are under EXIT
  STATUS and each command with --json has its output under JSON OUTPUT;
- every key the registry holds (core keys and plugin keys, from
  hvkit-doc-data), every key `hvkit check` prints for a mock configuration,
  and every device kind and property has its entry in hvkit.conf(5);
- the roff pages given (when scdoc built them) name every command and key.
"""

import json
import os
import re
import subprocess
import sys

errors = []


def fail(msg):
    errors.append(msg)


def run(*args):
    env = dict(os.environ)
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def sections(scd):
    """'# NAME' -> text up to the next '# '."""
    out = {}
    for m in re.finditer(r"^# (.+?)\n(.*?)(?=^# |\Z)", scd, re.S | re.M):
        out[m.group(1).strip()] = m.group(2)
    return out


def unescape(text):
    return text.replace("\\_", "_").replace("\\*", "*")


def options_of(help_text):
    """The options (--long and -s) a GOption --help lists, but --help."""
    opts = []
    for line in help_text.splitlines():
        m = re.match(r"^\s+(?:(-\w), )?(--[\w-]+)", line)
        if m and m.group(2) not in ("--help", "--help-all"):
            opts.append(m.group(2))
            if m.group(1) and m.group(1) != "-h":
                opts.append(m.group(1))
    return opts


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    hvkit, man1_path, man5_path, data_path = sys.argv[1:5]
    roffs = sys.argv[5:]
    with open(man1_path, encoding="utf-8") as f:
        man1 = unescape(f.read())
    with open(man5_path, encoding="utf-8") as f:
        man5 = unescape(f.read())
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)

    # hvkit(1)
    top = run(hvkit, "--help")
    commands = []
    in_commands = False
    for line in top.splitlines():
        if line.startswith("Commands:"):
            in_commands = True
            continue
        if in_commands:
            if not line.strip():
                break
            commands.append(line.split()[0])
    if len(commands) < 10:
        fail("hvkit --help lists only %d commands: %r" % (len(commands), commands))

    s1 = sections(man1)
    cmd_text = s1.get("COMMANDS", "")
    entries = {}
    for m in re.finditer(r"^\*([a-z-]+)\*(.*?)(?=^\*[a-z-]+\*|\Z)", cmd_text, re.S | re.M):
        entries[m.group(1)] = m.group(2)
    for cmd in commands:
        if cmd not in entries:
            fail("hvkit(1): command '%s' has no entry under COMMANDS" % cmd)
            continue
        for opt in options_of(run(hvkit, cmd, "--help")):
            if "*%s*" % opt not in entries[cmd] and "*%s*=" % opt not in entries[cmd]:
                fail("hvkit(1): option %s of '%s' is not in its entry" % (opt, cmd))
            if opt == "--json" and "*%s --json*" % cmd not in s1.get("JSON OUTPUT", ""):
                fail("hvkit(1): the JSON output of '%s --json' is not under JSON OUTPUT" % cmd)
    for opt in options_of(top):
        if "*%s*" % opt not in s1.get("GLOBAL OPTIONS", ""):
            fail("hvkit(1): global option %s is not under GLOBAL OPTIONS" % opt)
    for code in ("0", "1", "2"):
        if not re.search(r"^\*%s\*$" % code, s1.get("EXIT STATUS", ""), re.M):
            fail("hvkit(1): exit status %s is not under EXIT STATUS" % code)
    if "Exit status: 0" not in top:
        fail("hvkit --help no longer states the exit statuses: update this test")

    # hvkit.conf(5)
    s5 = sections(man5)
    core = {k["name"] for k in data["core_keys"]}
    if len(core) < 10:
        fail("hvkit-doc-data lists only %d core keys" % len(core))
    for name in sorted(core):
        if not re.search(r"^\*%s\* \(" % re.escape(name), s5.get("CORE KEYS", ""), re.M):
            fail("hvkit.conf(5): core key '%s' is not under CORE KEYS" % name)
    if not data["backend_keys"]:
        fail("hvkit-doc-data lists no backend keys (the mock backend has some)")
    for key in data["backend_keys"]:
        group = "## [hypervisor.%s]" % key["backend"]
        text = s5.get("BACKEND KEYS", "")
        part = text[text.find(group):] if group in text else ""
        part = part.split("\n## ", 1)[0]
        if not re.search(r"^\*%s\* \(" % re.escape(key["name"]), part, re.M):
            fail("hvkit.conf(5): key '%s' of backend %s is not under BACKEND KEYS %s"
                 % (key["name"], key["backend"], group))
    for kind in data["device_kinds"]:
        marker = "## kind=%s\n" % kind["name"]
        text = s5.get("DEVICES", "")
        if marker not in text:
            fail("hvkit.conf(5): device kind '%s' is not under DEVICES" % kind["name"])
            continue
        part = text[text.find(marker) + len(marker):].split("\n## ", 1)[0]
        for prop in kind["props"]:
            if not re.search(r"^\*%s\* \(" % re.escape(prop["name"]), part, re.M):
                fail("hvkit.conf(5): property '%s' of kind %s is missing"
                     % (prop["name"], kind["name"]))

    # What `hvkit check` prints, independently of hvkit-doc-data.
    conf = os.path.join(os.environ.get("G_TEST_SRCDIR", ""), "..", "examples", "mock.conf")
    if os.path.exists(conf):
        checked = run(hvkit, "check", "-c", conf)
        for line in checked.splitlines():
            m = re.match(r"^  ([a-z0-9_]+)( = |  \(unset\))", line)
            if m and m.group(1) not in core and \
                    m.group(1) not in {k["name"] for k in data["backend_keys"]}:
                fail("hvkit.conf(5): key '%s' that `hvkit check` prints is not documented"
                     % m.group(1))

    # The roff pages scdoc made, when it did.
    for roff_path in roffs:
        with open(roff_path, encoding="utf-8") as f:
            roff = re.sub(r"\\f[BIRP]|\\&|\\e", "", f.read()).replace("\\-", "-")
        words = commands if roff_path.endswith(".1") else \
            sorted(core | {k["name"] for k in data["backend_keys"]})
        for w in words:
            if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(w), roff):
                fail("%s: '%s' is missing" % (os.path.basename(roff_path), w))

    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

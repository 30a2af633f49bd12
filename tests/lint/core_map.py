#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks docs/ARCHITECTURE.md's map of core/ against the code.

The map is the code block after the line "<!-- core-map -->": one line a
file of core/, "FILE  HEADER...", naming the core headers the file includes
besides its own, bridge_private.h (the parts put together) and log.h. This
check fails when a line and the file's #include lines disagree, when a
file of core/ is missing from the map, or when the files' uses of each
other's headers form a circle.
"""
import pathlib
import re
import sys

top = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
core = top / "core"
doc = (top / "docs" / "ARCHITECTURE.md").read_text()
IGNORED = {"bridge_private", "log"}


def fail(msg):
    print(f"core map: {msg}", file=sys.stderr)
    sys.exit(1)


m = re.search(r"<!-- core-map -->\s*```[^\n]*\n(.*?)```", doc, re.S)
if not m:
    fail("no code block after <!-- core-map --> in docs/ARCHITECTURE.md")
documented = {}
for line in m.group(1).splitlines():
    words = line.split()
    if not words or not words[0].endswith(".c"):
        continue
    documented[words[0][:-2]] = {w[:-2] if w.endswith(".h") else w
                                 for w in words[1:]}

actual = {}
for c in sorted(core.glob("*.c")):
    mod = c.stem
    heads = set(re.findall(r'^#include "([a-z_]+)\.h"', c.read_text(), re.M))
    actual[mod] = heads - IGNORED - {mod}

errors = []
for mod, heads in actual.items():
    if mod not in documented:
        errors.append(f"{mod}.c is not in the map")
    elif documented[mod] != heads:
        errors.append(f"{mod}.c includes {sorted(heads)}, the map says "
                      f"{sorted(documented[mod])}")
for mod in documented:
    if mod not in actual:
        errors.append(f"the map names {mod}.c, which does not exist")
if errors:
    fail("\n  ".join(["docs/ARCHITECTURE.md and core/ disagree:"] + errors))

# A header is a module's when a .c of the same name exists.
graph = {m: {h for h in hs if h in actual} for m, hs in actual.items()}
state = {}


def visit(mod, path):
    state[mod] = "open"
    for dep in sorted(graph[mod]):
        if state.get(dep) == "open":
            fail("a circle: " + " -> ".join(path + [mod, dep]))
        if dep not in state:
            visit(dep, path + [mod])
    state[mod] = "done"


for mod in sorted(graph):
    if mod not in state:
        visit(mod, [])
print(f"core map: {len(actual)} files, no circle, map matches the includes")

#!/usr/bin/env python3
"""Lists the functions of src/ longer than a limit (default 80 lines), longest
first: `python3 scripts/long_functions.py [LIMIT]`. A function is counted from
its `fn` line to the line of its closing brace at the same indentation (rustfmt
layout); tests (`mod tests`) are left out. The guide asks for functions under
about 80 lines, or a reason in their comment."""
import os
import re
import sys

LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 80
FN = re.compile(r"^(\s*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?fn\s+(\w+)")


def functions(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    in_tests = None
    for i, line in enumerate(lines):
        if re.match(r"^\s*mod tests\b", line):
            in_tests = len(line) - len(line.lstrip())
            continue
        m = FN.match(line)
        if not m or in_tests is not None:
            continue
        indent = m.group(1)
        if line.rstrip().endswith(";"):
            continue
        for j in range(i + 1, len(lines)):
            if lines[j] == indent + "}":
                yield m.group(2), i + 1, j - i + 1
                break


rows = []
for root, _, files in os.walk("src"):
    for f in files:
        if f.endswith(".rs"):
            p = os.path.join(root, f)
            for name, line, n in functions(p):
                if n > LIMIT:
                    rows.append((n, f"{p}:{line}", name))
for n, where, name in sorted(rows, reverse=True):
    print(f"{n:5}  {name:32}  {where}")

#!/usr/bin/env python3
"""Lists the files of the source tree that include each other, and fails if there are any.

A unit is a file's path without its extension: foo.h and foo.cc of one folder are one unit, so
"foo.cc includes bar.h while bar.cc includes foo.h" is a pair as much as two headers including
each other are. Every pair of units that include each other is listed, then every longer cycle
(a includes b includes c includes a), each once. Exit status 1 when there is any, else 0.

Only quoted includes count ("preload/core/registry.h"), resolved from the tree's root as the build
does, or beside the including file; system headers (<...>) never form a cycle of ours.

Usage: include_cycles.py [ROOT]     (default: the tree this script is in)
       include_cycles.py --self-test (proves it finds what it must, on a tree made up for it)
"""

import os
import re
import sys
import tempfile

SOURCE_SUFFIXES = (".h", ".hpp", ".inc", ".c", ".cc", ".cpp")
SKIPPED_FOLDERS = {".git", "build", "third_party"}
QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.MULTILINE)


def unit_of(path):
    return os.path.splitext(path)[0]


def include_graph(root):
    """unit -> set of units it includes (itself left out: foo.cc including foo.h is no cycle)."""
    graph = {}
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders
                               if d not in SKIPPED_FOLDERS and not d.startswith("build"))
        for name in sorted(files):
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            path = os.path.relpath(os.path.join(folder, name), root)
            with open(os.path.join(root, path), errors="replace") as source:
                included = QUOTED_INCLUDE.findall(source.read())
            unit = unit_of(path)
            edges = graph.setdefault(unit, set())
            for target in included:
                for candidate in (target, os.path.join(os.path.dirname(path), target)):
                    candidate = os.path.normpath(candidate)
                    if os.path.isfile(os.path.join(root, candidate)):
                        if unit_of(candidate) != unit:
                            edges.add(unit_of(candidate))
                        break
    return graph


def mutual_pairs(graph):
    return sorted((a, b) for a, targets in graph.items() for b in targets
                  if a < b and a in graph.get(b, ()))


def strongly_connected(graph):
    """Tarjan's algorithm, iterative: the groups of units that reach each other."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            unit, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    advanced = True
                    break
                if target in on_stack:
                    low[unit] = min(low[unit], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[unit])
            if low[unit] == index[unit]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == unit:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return sorted(groups)


def problems(root):
    graph = include_graph(root)
    pairs = mutual_pairs(graph)
    lines = [f"{a} <-> {b}" for a, b in pairs]
    paired = {unit for pair in pairs for unit in pair}
    for group in strongly_connected(graph):
        # A group that is exactly one listed pair says nothing new.
        if len(group) == 2 and set(group) <= paired and tuple(group) in pairs:
            continue
        lines.append("cycle through: " + ", ".join(group))
    return lines


def self_test():
    files = {
        # a pair through a header and the other unit's .cc
        "room/a.h": '#include "room/b.h"\n',
        "room/a.cc": '#include "room/a.h"\n',
        "room/b.h": "",
        "room/b.cc": '#include "room/b.h"\n#include "room/a.h"\n',
        # a longer cycle, with an include beside the file
        "x/c.h": '#include "d.h"\n',
        "x/d.h": '#include "x/e.h"\n',
        "x/e.cc": '#include "x/c.h"\n',
        "x/e.h": "",
        # one way only, a system header, a missing file, a unit including its own header
        "ok/f.cc": '#include "ok/f.h"\n#include "room/b.h"\n#include <vector>\n#include "gone.h"\n',
        "ok/f.h": "",
    }
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as out:
                out.write(text)
        found = problems(root)
    expected = ["room/a <-> room/b", "cycle through: x/c, x/d, x/e"]
    if found != expected:
        print(f"self-test failed: found {found}, expected {expected}")
        return 1
    print("self-test passed")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    found = problems(os.path.abspath(root))
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} include cycle(s): files that include each other cannot be read or "
              "changed apart; move what both need into a third file, or pass a callback")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

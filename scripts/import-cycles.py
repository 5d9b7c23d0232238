#!/usr/bin/env python3
"""Reports import circles between the top-level modules of each workspace crate.

A module's imports are the `crate::<module>` paths in its files (its submodules' files count as
its own). Tests (`tests.rs`, `tests/` folders) are skipped: a test may look anywhere. Crates
cannot form circles (Cargo refuses them), so this is the check that keeps `docs/layout.md`'s
"no import circles inside a crate" true. Exit status 1 when a circle is found.

Usage: scripts/import-cycles.py [repository root]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
found = False
for manifest in sorted(root.glob("*/Cargo.toml")) + sorted(root.glob("*/*/Cargo.toml")):
    src = manifest.parent / "src"
    if not src.is_dir() or "fuzz" in manifest.parts:
        continue
    modules = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src)
        if rel.name == "tests.rs" or "tests" in rel.parts[:-1]:
            continue
        top = rel.parts[0].removesuffix(".rs")
        if top in ("lib", "main"):
            continue
        # Code only: a doc link to another module is not an import.
        text = "\n".join(line.split("//")[0] for line in f.read_text().splitlines())
        uses = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", text))
        # `use crate::{a::X, b}` lists
        for group in re.findall(r"crate::\{([^;]*?)\};", text, re.S):
            uses |= set(re.findall(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)::", group))
        modules.setdefault(top, set()).update(uses - {top})
    names = set(modules)
    graph = {m: sorted(u & names) for m, u in modules.items()}

    # Depth-first search for a back edge.
    state, stack = {}, []

    def visit(m):
        global found
        state[m] = "open"
        stack.append(m)
        for n in graph.get(m, []):
            if state.get(n) == "open":
                cycle = stack[stack.index(n):] + [n]
                print(f"{manifest.parent.name}: circle {' -> '.join(cycle)}")
                found = True
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
print("import circles found" if found else "no import circles between modules of any crate")
sys.exit(1 if found else 0)

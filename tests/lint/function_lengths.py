#!/usr/bin/env python3
"""Fails when a function in sim/, scenarios/ or output/ is longer than MAX_LINES lines (from
its signature to its closing brace, as universal-ctags sees it), unless it is listed in
ALLOWED with the reason. Lambdas count inside their enclosing function.

usage: function_lengths.py SOURCE_DIR [--report]   (--report: list the longest, never fail)
"""
from __future__ import annotations

import pathlib
import subprocess
import sys

MAX_LINES = 80
FOLDERS = ("sim", "scenarios", "output")
#: "file:function" -> why it may be longer. Keep this list short and every reason honest.
ALLOWED: dict[str, str] = {
}


def functions(root: pathlib.Path):
    files = [str(p.relative_to(root)) for folder in FOLDERS
             for p in sorted((root / folder).rglob("*")) if p.suffix in (".cpp", ".hpp")]
    out = subprocess.run(["ctags", "--c++-kinds=f", "--fields=+ne", "--sort=no", "-o", "-",
                          *files], cwd=root, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, path, *rest = line.split("\t")
        fields = dict(f.split(":", 1) for f in rest if ":" in f)
        if name.startswith("__anon") or "end" not in fields:
            continue  # lambdas: counted in their enclosing function
        scope = fields.get("class") or fields.get("struct") or fields.get("namespace") or ""
        owner = [s for s in scope.split("::") if s and not s.startswith("__anon")]
        qualified = f"{owner[-1]}::{name}" if owner else name
        yield path, qualified, int(fields["line"]), int(fields["end"]) - int(fields["line"]) + 1


def main(argv: list[str]) -> int:
    root = pathlib.Path(argv[0]).resolve()
    found = sorted(functions(root), key=lambda f: -f[3])
    if "--report" in argv:
        for path, name, line, length in found[:20]:
            print(f"{length:5d}  {path}:{line}  {name}")
        return 0
    long = [f for f in found if f[3] > MAX_LINES and f"{f[0]}:{f[1]}" not in ALLOWED]
    for path, name, line, length in long:
        print(f"{path}:{line}: {name} is {length} lines (limit {MAX_LINES}): split it, or add "
              f"it to ALLOWED in {pathlib.Path(__file__).name} with the reason")
    print(f"{len(found)} functions checked in {', '.join(FOLDERS)}; {len(long)} too long")
    return 1 if long else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Executes every notebook of analysis/notebooks headless (jupyter nbconvert --execute) and
fails if any cell fails. The CTest test `notebooks` runs it; by hand:

    PYTHONPATH=analysis /usr/bin/python3 tests/notebooks/execute_notebooks.py [NOTEBOOK ...]

The executed copies go to a temporary folder (the committed notebooks keep no outputs);
the notebooks' runs go to $BANKRUN_NOTEBOOK_OUT (default: the same temporary folder).
"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    notebooks = [pathlib.Path(a) for a in argv] or sorted(
        (ROOT / "analysis/notebooks").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    failed = []
    with tempfile.TemporaryDirectory(prefix="bankrun-notebooks-") as tmp:
        env = dict(os.environ)
        env.setdefault("BANKRUN_NOTEBOOK_OUT", tmp)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT / "analysis"), env.get("PYTHONPATH", "")) if p)
        env.setdefault("MPLBACKEND", "Agg")
        env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        for nb in notebooks:
            start = time.time()
            proc = subprocess.run(
                ["jupyter", "nbconvert", "--to", "notebook", "--execute", str(nb),
                 "--output-dir", tmp, "--ExecutePreprocessor.timeout=600",
                 "--ExecutePreprocessor.kernel_name=python3"],
                capture_output=True, text=True, env=env)
            took = time.time() - start
            if proc.returncode == 0:
                print(f"ok      {nb.name} ({took:.1f} s)")
            else:
                failed.append(nb.name)
                print(f"FAILED  {nb.name} ({took:.1f} s)\n{proc.stderr[-6000:]}")
    if failed:
        print(f"{len(failed)} of {len(notebooks)} notebooks failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Golden-file regression test: runs one tests/golden/NAME.yaml with the real binary and
compares the exact integer series of its output with NAME.golden.json.

usage: check_golden.py BANKRUN NAME.yaml [--update]

A difference means the simulated results changed. If the change is intended (a model
change, documented in sim/MODEL.md), regenerate with --update and commit the new file.
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import h5py
import numpy as np

SERIES = ["population/withdrawn_agents", "population/paid_agents",
          "institutions/{inst}/payments_cents", "institutions/{inst}/deposits_cents",
          "institutions/{inst}/queue_count", "institutions/{inst}/halted"]


def run(bankrun, scenario, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "golden.h5"
        subprocess.run([bankrun, "run", str(scenario), "-o", str(out), "--quiet",
                        "--threads", str(threads)], check=True)
        with h5py.File(out) as f:
            inst = list(f["institutions"].keys())[0]
            result = {s.format(inst=inst): f[s.format(inst=inst)][:].astype(np.int64).tolist()
                      for s in SERIES}
            result["summary"] = {k: int(v) for k, v in f["summary"].attrs.items()
                                 if np.issubdtype(np.asarray(v).dtype, np.integer)}
            return result


def first_difference(expected, actual):
    for key in expected:
        if key not in actual:
            return f"{key}: missing"
        if expected[key] != actual[key]:
            if isinstance(expected[key], list):
                e, a = np.array(expected[key]), np.array(actual[key])
                if e.shape != a.shape:
                    return f"{key}: length {a.shape} instead of {e.shape}"
                t = int(np.argmax(e != a))
                return f"{key}: first differs at tick {t}: {a[t]} instead of {e[t]}"
            return f"{key}: {actual[key]} instead of {expected[key]}"
    return None


def main():
    bankrun, scenario = sys.argv[1], pathlib.Path(sys.argv[2])
    golden = scenario.with_suffix(".golden.json")
    actual = run(bankrun, scenario, threads=2)
    if "--update" in sys.argv:
        golden.write_text(json.dumps(actual, indent=0) + "\n")
        print(f"wrote {golden}")
        return 0
    if not golden.exists():
        print(f"no golden file {golden}: create it with --update", file=sys.stderr)
        return 1
    diff = first_difference(json.loads(golden.read_text()), actual)
    if diff:
        print(f"{scenario.name}: results changed: {diff}\n(if intended, rerun with --update)",
              file=sys.stderr)
        return 1
    # The thread count must not matter either.
    diff = first_difference(actual, run(bankrun, scenario, threads=1))
    if diff:
        print(f"{scenario.name}: 1 thread differs from 2: {diff}", file=sys.stderr)
        return 1
    print(f"{scenario.name}: matches {golden.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

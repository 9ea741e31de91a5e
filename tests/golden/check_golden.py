#!/usr/bin/env python3
"""Golden-file regression test: runs one tests/golden/NAME.yaml with the real binary and
compares the exact integer series of its output with NAME.golden.json.

usage: check_golden.py BANKRUN NAME.yaml [--update]

Keys of the golden file: the population-level series ("population/..."), the series of
every institution ("institutions/<name>/..."), "summary" (the integer attributes of
/summary) and "summary/<name>" (those of each institution's summary). Only the keys and
summary attributes in the golden file are compared: a newer output that adds some still
matches an older golden file.

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
          "population/self_custody_cents"]
INSTITUTION_SERIES = ["payments_cents", "deposits_cents", "inflows_cents", "transfers_in_cents",
                      "transfers_out_cents", "queue_count", "halted"]


def integer_attrs(obj):
    return {k: int(v) for k, v in obj.attrs.items()
            if np.issubdtype(np.asarray(v).dtype, np.integer)}


def run(bankrun, scenario, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "golden.h5"
        subprocess.run([bankrun, "run", str(scenario), "-o", str(out), "--quiet",
                        "--threads", str(threads)], check=True)
        with h5py.File(out) as f:
            result = {s: f[s][:].astype(np.int64).tolist() for s in SERIES}
            names = f.attrs["institution_names"].decode().split(",")
            for name in names:
                for s in INSTITUTION_SERIES:
                    path = f"institutions/{name}/{s}"
                    result[path] = f[path][:].astype(np.int64).tolist()
            result["summary"] = integer_attrs(f["summary"])
            for name in names:
                result[f"summary/{name}"] = integer_attrs(f["summary"][name])
            return result


def first_difference(expected, actual):
    for key in expected:
        if key not in actual:
            return f"{key}: missing"
        e, a = expected[key], actual[key]
        if isinstance(e, dict):
            missing = [k for k in e if k not in a]
            if missing:
                return f"{key}: missing {', '.join(missing)}"
            changed = [f"{k} = {a[k]} instead of {e[k]}" for k in e if a[k] != e[k]]
            if changed:
                return f"{key}: {'; '.join(changed)}"
        elif e != a:
            if isinstance(e, list):
                e, a = np.array(e), np.array(a)
                if e.shape != a.shape:
                    return f"{key}: length {a.shape} instead of {e.shape}"
                t = int(np.argmax(e != a))
                return f"{key}: first differs at tick {t}: {a[t]} instead of {e[t]}"
            return f"{key}: {a} instead of {e}"
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

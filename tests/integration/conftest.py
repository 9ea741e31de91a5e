"""Shared fixtures: the real bankrun binary and helpers to run it and read its HDF5."""
import os
import pathlib
import subprocess

import h5py
import numpy as np
import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("BANKRUN_SOURCE_DIR",
                                         pathlib.Path(__file__).resolve().parents[2]))
BANKRUN = pathlib.Path(os.environ.get("BANKRUN_BIN", SOURCE_DIR / "build/output/bankrun"))
REFERENCE_YAML = SOURCE_DIR / "scenarios/bench/reference.yaml"


def run_bankrun(*args, check=True, timeout=600, **kwargs):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    proc = subprocess.run([str(BANKRUN), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"bankrun {' '.join(map(str, args))} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def run_scenario_text(tmp_path, name, text, *sets):
    """Writes the scenario `text` to tmp_path/NAME.yaml, runs it with each `key=value` of
    `sets` as --set, and returns the path of its (new) output file."""
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text(text)
    out = tmp_path / f"{name}{len(list(tmp_path.glob(f'{name}*.h5')))}.h5"
    args = ["run", scenario, "-o", out, "--quiet"]
    for s in sets:
        args += ["--set", s]
    run_bankrun(*args)
    return out


def attr_str(value):
    """HDF5 string attributes may come back as bytes or str depending on their type."""
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture(scope="session")
def bankrun_bin():
    assert BANKRUN.exists(), f"bankrun binary not found at {BANKRUN} (set BANKRUN_BIN)"
    return BANKRUN


@pytest.fixture
def run_to_h5(tmp_path, bankrun_bin):
    """run_to_h5(scenario, *extra_args) -> open h5py.File of the run's output."""
    opened = []

    def _run(scenario, *extra, name="out.h5"):
        out = tmp_path / name
        run_bankrun("run", scenario, "-o", out, "--quiet", *extra)
        f = h5py.File(out, "r")
        opened.append(f)
        return f

    yield _run
    for f in opened:
        f.close()


#: Root attributes that differ between two runs of the same scenario and seed by design
#: (when and how fast, on how many threads, by which build, resumed where): output/README.md.
RUN_SPECIFIC_ATTRS = {"started_utc", "wall_seconds", "loop_seconds", "threads", "git_commit",
                      "bankrun_version", "resumed_at_ticks"}


def run_file_differences(path_a, path_b, ignore_attrs=RUN_SPECIFIC_ATTRS):
    """Every difference between two run files: objects present in one only, datasets whose
    shape, type or bytes differ, attributes (other than `ignore_attrs`) that differ."""
    def objects(f):
        found = {"/": f}
        f.visititems(lambda name, obj: found.__setitem__(name, obj))
        return found

    out = []
    with h5py.File(path_a, "r") as a, h5py.File(path_b, "r") as b:
        oa, ob = objects(a), objects(b)
        out += [f"only in one file: {name}" for name in sorted(set(oa) ^ set(ob))]
        for name in sorted(set(oa) & set(ob)):
            x, y = oa[name], ob[name]
            if isinstance(x, h5py.Dataset):
                if (x.shape, x.dtype) != (y.shape, y.dtype) or x[()].tobytes() != y[()].tobytes():
                    out.append(f"dataset {name}")
            for key in sorted((set(x.attrs) | set(y.attrs)) - set(ignore_attrs)):
                if key not in x.attrs or key not in y.attrs:
                    out.append(f"attribute {name}:{key} in one file only")
                elif (np.asarray(x.attrs[key]).tobytes() != np.asarray(y.attrs[key]).tobytes()):
                    out.append(f"attribute {name}:{key}")
    return out


def assert_mean_trajectories_agree(ours, theirs, what, agents):
    """bankrun's and a NumPy implementation's per-tick means over independent seeds (rows)
    agree: |mean_a - mean_b| <= 4 * sqrt(se_a^2 + se_b^2) + 1/agents at every tick.

    Each mean's standard error is the sample sd over the seeds (ddof=1) / sqrt(seeds); the
    difference of two independent means has standard error sqrt(se_a^2 + se_b^2). The ticks
    are strongly correlated (smooth trajectories), so z = 4 keeps the family-wise false-alarm
    rate over 100-150 ticks well below 1% while keeping power against a model difference of
    a few per cent. 1/agents: one agent's worth of discreteness where both spreads vanish."""
    se = np.sqrt(ours.var(axis=0, ddof=1) / len(ours) + theirs.var(axis=0, ddof=1) / len(theirs))
    diff = np.abs(ours.mean(axis=0) - theirs.mean(axis=0))
    bad = np.nonzero(diff > 4 * se + 1.0 / agents)[0]
    assert bad.size == 0, (f"{what}: mean trajectories differ at ticks {bad.tolist()}: "
                           f"bankrun {ours.mean(axis=0)[bad]}, numpy {theirs.mean(axis=0)[bad]}, "
                           f"se {se[bad]}")

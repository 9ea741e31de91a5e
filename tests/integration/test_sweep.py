"""`bankrun sweep` and `bankrun merge` end to end on this machine: the manifest, --list,
--dry-run, local parallel runs, resuming (complete runs skipped, stale ones rerun), the
merge index read with pandas, bit-identity with `bankrun run`, interruption, clear errors,
and a sweep of 10,000 tiny runs with bounded memory (its own CTest test, sweep_10000_runs).
The Slurm array test is test_sweep_slurm.py."""
import csv
import hashlib
import io
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import BANKRUN, REFERENCE_YAML, attr_str, run_bankrun

MASK = (1 << 64) - 1


def mix64(z):
    """SplitMix64's output function, as documented in scenarios/SWEEPS.md."""
    z = (z + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def run_seed(sweep_seed, point, replicate):
    """The documented seed of a run: hash64(sweep_seed, 1, point, replicate)."""
    return mix64(mix64(mix64(mix64(sweep_seed) ^ 1) ^ point) ^ replicate)


def write_sweep(tmp_path, body, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(f"base: {REFERENCE_YAML}\n" + textwrap.dedent(body))
    return path


SMALL = """\
    seed: 2024
    replicates: 2
    output: out
    parameters:
      population.agents: [1000, 2000]
      time.ticks: [20]
      stress.flow_weight: {from: 0, to: 1, count: 2}
    """


def read_h5_datasets(f):
    """Every dataset of an open file: {path: numpy array}."""
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                 if isinstance(obj, h5py.Dataset) else None)
    return out


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def index_frame(path):
    with h5py.File(path, "r") as f:
        df = pd.DataFrame(f["runs"][:])
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].str.decode("utf-8")
    return df


def test_list_prints_the_runs_with_documented_seeds(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, SMALL)
    out = run_bankrun("sweep", sweep, "--list").stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == 8  # 2 x 1 x 2 points, 2 replicates
    assert list(rows[0]) == ["index", "point", "replicate", "seed", "population.agents",
                             "time.ticks", "stress.flow_weight"]
    for i, r in enumerate(rows):
        assert int(r["index"]) == i
        assert int(r["point"]) == i // 2 and int(r["replicate"]) == i % 2
        assert int(r["seed"]) == run_seed(2024, i // 2, i % 2)
    # grid order: the last parameter varies fastest
    assert [(r["population.agents"], r["stress.flow_weight"]) for r in rows[::2]] == [
        ("1000", "0"), ("1000", "1"), ("2000", "0"), ("2000", "1")]
    # --list and --dry-run write nothing
    run_bankrun("sweep", sweep, "--dry-run")
    assert not (tmp_path / "out").exists()
    # a shard lists every N-th run
    shard = list(csv.DictReader(run_bankrun("sweep", sweep, "--list", "--shard", "1/3")
                                .stdout.splitlines()))
    assert [int(r["index"]) for r in shard] == [1, 4, 7]


def test_dry_run_reports_every_invalid_run(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, """\
        mode: zip
        parameters:
          population.agents: [1000, 2000, 5]
          output.snapshot_agents: [10, 10, 10]
        """)
    proc = run_bankrun("sweep", sweep, "--dry-run", check=False)
    assert proc.returncode == 2
    assert "1 of 3 runs invalid" in proc.stderr
    assert ("run 2 (point 2, replicate 0; population.agents=5, output.snapshot_agents=10)"
            in proc.stderr)
    assert f"{sweep}:5:3: parameters.output.snapshot_agents" in proc.stderr
    # Running it stops before any run: the manifest is where every run is loaded first.
    proc = run_bankrun("sweep", sweep, check=False)
    assert proc.returncode == 2 and "run 2 (point 2" in proc.stderr
    out = tmp_path / "sweep.sweep"
    assert not (out / "runs").exists() and not list(out.glob("*.tmp.*"))
    good = write_sweep(tmp_path, "parameters:\n  population.agents: [1000, 2000]\n", "good.yaml")
    assert "all 2 checked runs valid" in run_bankrun("sweep", good, "--dry-run").stdout


@pytest.mark.parametrize("body, expect", [
    ("mode: grdi\n", ":2:7: mode: expected one of grid, zip, random, lhs, got 'grdi'; did you "
                     "mean 'grid'?"),
    ("replicate: 2\n", ":2:1: replicate: unknown key 'replicate' at the top level; did you mean "
                       "'replicates'?"),
    ("parameters:\n  population.agnets: [10]\n",
     ":3:3: parameters.population.agnets: unknown key 'agnets' in population; did you mean "
     "'agents'?"),
    ("parameters:\n  news[4].magnitude: [0.1]\n",
     ":3:3: parameters.news[4].magnitude: news: index 4 is out of range: news has 1 element"),
    ("parameters:\n  population.agents: [10, -1]\n",
     ":3:27: parameters.population.agents[1]: expected an integer in 1 .. 4000000000, got -1"),
    ("mode: lhs\ncount: 4\nparameters:\n  stress.flow_weight: {dist: uniform, low: 1}\n",
     ":5:23: parameters.stress.flow_weight.high: missing required key 'high' in "
     "parameters.stress.flow_weight"),
])
def test_bad_sweep_files_give_clear_errors(tmp_path, bankrun_bin, body, expect):
    sweep = write_sweep(tmp_path, body)
    for args in (["--list"], ["--dry-run"], []):
        proc = run_bankrun("sweep", sweep, *args, check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(f"bankrun: scenario error: {sweep}{expect}"), proc.stderr
    assert not (tmp_path / "sweep.sweep").exists()


def test_local_sweep_end_to_end_and_merge_index(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, SMALL)
    proc = run_bankrun("sweep", sweep, "--jobs", "2")
    assert "8 runs: 8 run now, 0 already complete, 0 failed" in proc.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(f"{i}.h5" for i in range(8))

    manifest = pd.read_csv(out / "manifest.csv")
    assert list(manifest["index"]) == list(range(8))
    listed = pd.read_csv(io.StringIO(run_bankrun("sweep", sweep, "--list").stdout))
    for c in ("point", "replicate", "seed", "population.agents", "stress.flow_weight"):
        assert list(manifest[c]) == list(listed[c])

    df = index_frame(out / "index.h5")  # written by the sweep itself
    assert len(df) == 8 and (df["status"] == "complete").all()
    assert df["population.agents"].dtype == np.float64
    assert list(df["population.agents"]) == [1000.0] * 4 + [2000.0] * 4
    assert list(df["seed"]) == [run_seed(2024, i // 2, i % 2) for i in range(8)]
    for col in ("bank.total_outflow_usd", "bank.halt_tick", "bank.peak_daily_outflow_usd",
                "withdrawn_agents", "ticks_run", "wall_seconds", "scenario_sha256", "file"):
        assert col in df.columns
    assert (df["ticks_run"] == 20).all()

    with h5py.File(out / "index.h5", "r") as f:
        assert attr_str(f.attrs["format"]) == "bankrun-sweep-index"
        assert int(f.attrs["complete_runs"]) == 8
        assert sorted(f["trajectories"], key=int) == [str(i) for i in range(8)]
        for i, row in df.iterrows():
            run = f[f"trajectories/{i}"]  # an external link to runs/<i>.h5
            with h5py.File(out / row["file"], "r") as g:
                assert int(run.attrs["seed"]) == int(row["seed"])
                yaml = g.attrs["scenario_yaml"]
                assert hashlib.sha256(yaml).hexdigest() == row["scenario_sha256"]
                assert hashlib.sha256(yaml).hexdigest() == manifest["scenario_sha256"][i]
                s = g["summary/bank"].attrs
                assert float(s["total_outflow_usd"]) == row["bank.total_outflow_usd"]
                assert int(s["halt_tick"]) == row["bank.halt_tick"]
                assert float(s["peak_daily_outflow_usd"]) == row["bank.peak_daily_outflow_usd"]
                assert int(g["summary"].attrs["withdrawn_agents"]) == row["withdrawn_agents"]
                assert same_bits(run["institutions/bank/payments_cents"][()],
                                 g["institutions/bank/payments_cents"][()])
    # the runs really differ: the seeds (and parameters) matter
    assert df["bank.total_outflow_usd"].nunique() > 1

    # The index can be rebuilt elsewhere, from another directory.
    run_bankrun("merge", out, "-o", tmp_path / "copy.h5", cwd="/")
    assert index_frame(tmp_path / "copy.h5").drop(columns="wall_seconds").equals(
        df.drop(columns="wall_seconds"))


def test_a_sweep_run_is_bit_identical_to_bankrun_run(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, SMALL)
    run_bankrun("sweep", sweep, "--quiet")
    manifest = pd.read_csv(tmp_path / "out/manifest.csv")
    row = manifest.iloc[5]
    single = tmp_path / "single.h5"
    run_bankrun("run", REFERENCE_YAML, "-o", single, "--quiet", "--threads", "1",
                "--set", f"population.agents={row['population.agents']}",
                "--set", f"time.ticks={row['time.ticks']}",
                "--set", f"stress.flow_weight={row['stress.flow_weight']}",
                "--seed", str(row["seed"]))
    with h5py.File(single, "r") as a, h5py.File(tmp_path / "out/runs/5.h5", "r") as b:
        assert a.attrs["scenario_yaml"] == b.attrs["scenario_yaml"]
        da, db = read_h5_datasets(a), read_h5_datasets(b)
        assert da.keys() == db.keys()
        for k in da:
            assert same_bits(da[k], db[k]), k


def test_resume_skips_complete_runs_and_reruns_stale_ones(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, SMALL)
    run_bankrun("sweep", sweep, "--quiet")
    runs = tmp_path / "out/runs"
    before = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    (runs / "3.h5").unlink()
    # a run killed mid-way leaves only its .partial file
    (runs / "6.h5").rename(runs / "6.h5.partial")
    proc = run_bankrun("sweep", sweep)
    assert "8 runs: 2 run now, 6 already complete, 0 failed" in proc.stdout
    after = {p.name: p.stat().st_mtime_ns for p in runs.iterdir()}
    assert "6.h5.partial" not in after
    for name in before:
        if name not in ("3.h5", "6.h5"):
            assert after[name] == before[name], name  # untouched
    assert (index_frame(tmp_path / "out/index.h5")["status"] == "complete").all()

    # Change one parameter value: runs of the changed points are stale, the others kept.
    sweep.write_text(sweep.read_text().replace("count: 2}", "count: 3}"))
    proc = run_bankrun("sweep", sweep)
    # points: flow 0, 0.5, 1 for each agents value; flow 0 and 1 runs are unchanged, but the
    # run indices moved: only those whose scenario hash matches their file are kept.
    df = index_frame(tmp_path / "out/index.h5")
    assert len(df) == 12 and (df["status"] == "complete").all()
    assert "12 runs:" in proc.stdout and "already complete" in proc.stdout
    kept = int(proc.stdout.split(" run now, ")[1].split(" already")[0])
    assert kept == 2  # runs 0 and 1 (agents 1000, flow 0) keep their index and scenario


def test_merge_reports_missing_and_failed_runs(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, SMALL)
    run_bankrun("sweep", sweep, "--quiet")
    out = tmp_path / "out"
    (out / "runs/2.h5").unlink()
    with h5py.File(out / "runs/4.h5", "r+") as f:
        del f.attrs["status"]
        f.attrs.create("status", np.bytes_("failed"))
    proc = run_bankrun("merge", out, check=False)
    assert proc.returncode == 3
    assert "2 of 8 runs are not complete" in proc.stderr
    assert "run 2 (runs/2.h5): missing: no run file" in proc.stderr
    assert "run 4 (runs/4.h5): failed: status \"failed\"" in proc.stderr
    df = index_frame(out / "index.h5")
    assert df.loc[2, "status"] == "missing" and df.loc[4, "status"] == "failed"
    assert np.isnan(df.loc[2, "bank.total_outflow_usd"])
    with h5py.File(out / "index.h5", "r") as f:
        assert "2" not in f["trajectories"] and "4" in f["trajectories"]
    proc = run_bankrun("merge", tmp_path, check=False)
    assert proc.returncode == 1 and "not a sweep output folder" in proc.stderr


def test_random_and_lhs_sweeps_run(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, """\
        mode: lhs
        count: 6
        seed: 9
        output: lhs
        parameters:
          population.agents: {dist: integer, low: 500, high: 1500}
          time.ticks: [15]
          stress.flow_weight: {dist: uniform, low: 0, high: 1}
          name: [a, b]
        """)
    run_bankrun("sweep", sweep, "--quiet")
    df = index_frame(tmp_path / "lhs/index.h5")
    assert len(df) == 6 and (df["status"] == "complete").all()
    # Latin hypercube: one flow_weight in each sixth of [0, 1)
    assert sorted((df["stress.flow_weight"] * 6).astype(int)) == list(range(6))
    assert df["population.agents"].between(500, 1500).all()
    assert set(df["name"]) <= {"a", "b"} and df["name"].dtype == object


def test_interrupted_sweep_resumes(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, """\
        replicates: 4
        output: out
        parameters:
          population.agents: [100000]
          time.ticks: [800]
          news[0].magnitude: [0]
        """)
    proc = subprocess.Popen([str(BANKRUN), "sweep", str(sweep), "--jobs", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "out/runs"
    deadline = time.time() + 60
    while time.time() < deadline and not (runs.exists() and any(runs.glob("*.partial"))):
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, (out, err)  # 128 + SIGTERM
    # an interrupted run stays <i>.h5.partial, never next to a final <i>.h5
    assert all(not p.with_suffix("").exists() for p in runs.glob("*.h5.partial"))
    assert "interrupted" in out
    merge = run_bankrun("merge", tmp_path / "out", check=False)
    assert merge.returncode == 3
    statuses = set(index_frame(tmp_path / "out/index.h5")["status"])
    assert "interrupted" in statuses and statuses <= {"interrupted", "complete", "missing"}
    proc = run_bankrun("sweep", sweep, "--jobs", "2")
    assert "0 failed, 0 interrupted" in proc.stdout
    assert (index_frame(tmp_path / "out/index.h5")["status"] == "complete").all()


@pytest.mark.skipif(os.environ.get("BANKRUN_SWEEP_SCALE") != "1",
                    reason="runs as its own CTest test (sweep_10000_runs)")
def test_10000_tiny_runs_complete_with_bounded_memory(tmp_path, bankrun_bin):
    def sweep_rss(name, replicates):
        sweep = write_sweep(tmp_path, f"""\
            replicates: {replicates}
            output: {name}
            parameters:
              population.agents: [10, 20]
              time.ticks: [2, 3]
            """, f"{name}.yaml")
        # Peak resident memory of the biggest process of the sweep (coordinator or worker).
        probe = ("import resource, subprocess, sys, time; t = time.time(); "
                 "rc = subprocess.run(sys.argv[1:]).returncode; "
                 "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
                 "time.time() - t)")
        proc = subprocess.run([sys.executable, "-c", probe, str(BANKRUN), "sweep", str(sweep),
                               "--jobs", "2", "--quiet"], capture_output=True, text=True,
                              timeout=1500)
        rc, rss_kib, seconds = proc.stdout.split()[-3:]
        assert int(rc) == 0, proc.stderr
        return int(rss_kib), float(seconds), tmp_path / name

    small_rss, _, _ = sweep_rss("small", 25)  # 100 runs
    rss, seconds, out = sweep_rss("big", 2500)  # 10,000 runs
    try:
        df = index_frame(out / "index.h5")
        assert len(df) == 10000 and (df["status"] == "complete").all()
        assert df["seed"].nunique() == 10000
        print(f"10,000 runs in {seconds:.0f} s; peak RSS {rss / 1024:.1f} MiB "
              f"(100 runs: {small_rss / 1024:.1f} MiB)")
        # Memory does not grow with the number of runs.
        assert rss < small_rss * 1.5 + 16 * 1024
        # About 25 ms a run on one core of the development machine; allow a slow, shared one.
        assert seconds < 900
    finally:
        shutil.rmtree(out, ignore_errors=True)

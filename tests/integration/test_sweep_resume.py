"""Sweeps with checkpoints (`bankrun sweep --checkpoint-every`, scenarios/SWEEPS.md): a sweep
killed mid-run (SIGKILL to its whole process group, so no run saves a last checkpoint) and run
again continues each killed run from its last rolling checkpoint, and its files are the same,
dataset for dataset and attribute for attribute (but the wall-time ones), as an uninterrupted
sweep's; checkpoints a rerun cannot use (unreadable, of another scenario) are removed and their
runs started over; the Slurm script's tasks checkpoint too. The Slurm array variant (a cancelled
task's rerun resumes) is in test_sweep_slurm.py."""
import os
import signal
import subprocess
import textwrap
import time

import h5py
import numpy as np

from conftest import BANKRUN, REFERENCE_YAML, attr_str, run_bankrun

# Attributes that differ between two runs of the same scenario by design: when and how fast
# they ran, on how many threads, and the ticks a resumed run was continued at.
RUN_TIME_ATTRS = {"started_utc", "wall_seconds", "loop_seconds", "threads", "resumed_at_ticks"}


def write_sweep(tmp_path, agents, ticks, replicates=2, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(f"base: {REFERENCE_YAML}\n" + textwrap.dedent(f"""\
        seed: 31
        replicates: {replicates}
        parameters:
          population.agents: [{agents}]
          time.ticks: [{ticks}]
          news[0].magnitude: [0]
        """))
    return path


def file_contents(path):
    """{object path: (attributes but RUN_TIME_ATTRS, dataset bytes or None)} of an HDF5 file."""
    contents = {}
    with h5py.File(path, "r") as f:
        def add(name, obj):
            attrs = {k: np.asarray(v).tobytes() for k, v in obj.attrs.items()
                     if k not in RUN_TIME_ATTRS}
            data = None
            if isinstance(obj, h5py.Dataset):
                value = obj[()]
                data = (value.dtype.str, value.shape, np.asarray(value).tobytes())
            contents[name] = (attrs, data)
        add("/", f)
        f.visititems(add)
    return contents


def assert_same_runs(folder, reference, runs):
    for i in range(runs):
        a, b = file_contents(folder / f"runs/{i}.h5"), file_contents(reference / f"runs/{i}.h5")
        assert a.keys() == b.keys(), f"run {i}"
        assert sum(data is not None for _, data in a.values()) > 50
        for name in a:
            assert a[name] == b[name], f"run {i}: {name} differs"


def test_killed_sweep_resumes_runs_from_their_checkpoints(tmp_path, bankrun_bin):
    runs = 2
    sweep = write_sweep(tmp_path, agents=100000, ticks=1500, replicates=runs)
    out = tmp_path / "killed"
    command = [str(BANKRUN), "sweep", str(sweep), "--output", str(out), "--jobs", "2",
               "--checkpoint-every", "50"]
    # Its own process group (session), so that one SIGKILL ends the coordinator and its
    # workers at once: no run gets to save a checkpoint on its way out.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    checkpoints = [out / f"runs/{i}.h5.ckpt" for i in range(runs)]
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None and not all(
            c.exists() for c in checkpoints):
        time.sleep(0.02)
    time.sleep(0.2)  # a few more ticks past the checkpoint, which the resume cuts back
    os.killpg(proc.pid, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (stdout, stderr)
    partials = [out / f"runs/{i}.h5.partial" for i in range(runs)]
    assert all(c.exists() for c in checkpoints) and all(p.exists() for p in partials)
    assert not any((out / f"runs/{i}.h5").exists() for i in range(runs))

    # The same command again: each killed run continues from its checkpoint.
    rerun = run_bankrun(*command[1:])
    assert f"{runs} runs: {runs} run now, 0 already complete, 0 failed" in rerun.stdout
    resumed = [line for line in rerun.stderr.splitlines() if " resumed at tick " in line]
    assert len(resumed) == runs, rerun.stderr
    assert "starting over" not in rerun.stderr
    assert not list((out / "runs").glob("*.ckpt")) and not list((out / "runs").glob("*.partial"))
    for i in range(runs):
        with h5py.File(out / f"runs/{i}.h5", "r") as f:
            assert attr_str(f.attrs["status"]) == "complete"
            ticks = attr_str(f.attrs["resumed_at_ticks"])
            assert ticks and int(ticks) % 50 == 0 and 0 < int(ticks) < 1500, ticks
            assert f"run {i} resumed at tick {ticks} of 1500" in rerun.stderr
    # A third time: nothing left to do.
    assert f"0 run now, {runs} already complete" in run_bankrun(*command[1:]).stdout

    reference = tmp_path / "uninterrupted"
    run_bankrun("sweep", sweep, "--output", reference, "--jobs", "2", "--quiet")
    assert_same_runs(out, reference, runs)


def test_unusable_checkpoints_are_removed_and_their_runs_start_over(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, agents=2000, ticks=40)
    reference = tmp_path / "reference"
    run_bankrun("sweep", sweep, "--output", reference, "--quiet")

    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    # Run 0: an unreadable checkpoint. Run 1: a real checkpoint, of another scenario.
    (out / "runs/0.h5.ckpt").write_bytes(b"not a checkpoint")
    (out / "runs/0.h5.partial").write_bytes(b"not a run file")
    other = tmp_path / "other.h5"
    run_bankrun("run", REFERENCE_YAML, "-o", other, "--quiet", "--set", "population.agents=1000",
                "--set", "time.ticks=20", "--checkpoint-at", "10")
    (tmp_path / "other.h5.tick10.ckpt").rename(out / "runs/1.h5.ckpt")
    other.rename(out / "runs/1.h5.partial")

    proc = run_bankrun("sweep", sweep, "--output", out, "--checkpoint-every", "7")
    assert "2 runs: 2 run now, 0 already complete, 0 failed" in proc.stdout
    lines = proc.stderr.splitlines()
    assert any(line.startswith("bankrun sweep: run 0: not resuming from ")
               and "it cannot be read" in line and line.endswith("; starting over")
               for line in lines), proc.stderr
    assert any(line.startswith("bankrun sweep: run 1: not resuming from ")
               and "it is not of this run's scenario" in line for line in lines), proc.stderr
    assert "resumed at tick" not in proc.stderr
    assert not list((out / "runs").glob("*.ckpt"))
    for i in range(2):
        with h5py.File(out / f"runs/{i}.h5", "r") as f:
            assert attr_str(f.attrs["resumed_at_ticks"]) == ""
    assert_same_runs(out, reference, 2)


def test_checkpoint_every_is_checked_and_reaches_the_slurm_script(tmp_path, bankrun_bin):
    sweep = write_sweep(tmp_path, agents=1000, ticks=10)
    out = tmp_path / "out"
    proc = run_bankrun("sweep", sweep, "--output", out, "--checkpoint-every", "10x", check=False)
    assert proc.returncode == 2
    assert "--checkpoint-every '10x': expected a number of ticks" in proc.stderr
    assert not out.exists()

    run_bankrun("sweep", sweep, "--output", out, "--slurm", "--no-submit",
                "--checkpoint-every", "90s")
    script = (out / "sweep.sbatch").read_text()
    assert "--threads 1 --checkpoint-every '90s'\n" in script, script
    # Without the option, the tasks' command line has none.
    run_bankrun("sweep", sweep, "--output", out, "--slurm", "--no-submit")
    assert "--checkpoint-every '" not in (out / "sweep.sbatch").read_text()

"""Checkpoints and resume (issue 12 §3), on the real binary.

A run started with --checkpoint-every is killed (SIGKILL, or SIGTERM as Slurm sends at a
time limit) at a random moment, then `bankrun resume` continues it, with another thread
count: the finished file must hold the very same datasets and attributes as an
uninterrupted run (every dataset compared as bytes; only the run-specific attributes of
conftest.RUN_SPECIFIC_ATTRS may differ), for the reference and the contagion scenario, 1 -> 2
and 2 -> 1 threads. The random moments are seeded and printed.
"""
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import h5py
import pytest

from conftest import BANKRUN, REFERENCE_YAML, SOURCE_DIR, attr_str, run_bankrun, \
    run_file_differences

SEED = int(os.environ.get("BANKRUN_RESUME_SEED", "20261203"))
# scenario, overrides, checkpoint interval (ticks): a few seconds of run with a checkpoint
# every ~30-50 ms, so that a random kill lands between two of them.
SCENARIOS = {
    "reference": (REFERENCE_YAML, ["--set", "population.agents=100000"], 1),
    "contagion": (SOURCE_DIR / "scenarios/ftx-contagion-2022.yaml",
                  ["--set", "population.agents=50000"], 16),
}


def partial(out):
    return Path(str(out) + ".partial")


def rolling_checkpoint(out):
    return Path(str(out) + ".ckpt")


def checkpoint_tick(path):
    with h5py.File(path, "r") as f:
        return int(f.attrs["tick"])


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Each scenario run to the end without checkpoints, on 1 thread."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    files = {}
    for name, (scenario, overrides, _) in SCENARIOS.items():
        files[name] = folder / f"{name}.h5"
        run_bankrun("run", scenario, "-o", files[name], "--quiet", "--threads", "1", *overrides)
    return files


def kill_mid_run(out, name, threads, rng, sig=signal.SIGKILL, wait_up_to=3.0):
    """Starts a checkpointed run and sends `sig` at a random moment after its first
    checkpoint; retries (with shorter waits) until the signal lands mid-run. Returns the
    tick of the checkpoint left behind."""
    scenario, overrides, every = SCENARIOS[name]
    for attempt in range(10):
        for p in (out, partial(out), rolling_checkpoint(out)):
            p.unlink(missing_ok=True)
        proc = subprocess.Popen([str(BANKRUN), "run", str(scenario), "-o", str(out), "--quiet",
                                 "--threads", str(threads), "--checkpoint-every", str(every),
                                 *overrides],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while not rolling_checkpoint(out).exists() and proc.poll() is None:
            time.sleep(0.002)
        delay = rng.uniform(0.0, wait_up_to)
        time.sleep(delay)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == 0:  # it finished first: try a shorter wait
            wait_up_to /= 2
            continue
        expected = -signal.SIGKILL if sig == signal.SIGKILL else 128 + sig
        assert proc.returncode == expected, err
        assert not out.exists() and partial(out).exists() and rolling_checkpoint(out).exists()
        tick = checkpoint_tick(rolling_checkpoint(out))
        print(f"\n{name}: signal {sig} after {delay:.3f} s (attempt {attempt + 1}), "
              f"checkpoint at tick {tick}")
        return tick
    pytest.fail(f"{name}: the run always finished before the signal")


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("threads,resume_threads", [(1, 2), (2, 1)])
def test_resume_after_kill_is_bit_identical(tmp_path, uninterrupted, name, threads,
                                            resume_threads):
    rng = random.Random(f"{SEED}-{name}-{threads}")
    out = tmp_path / "run.h5"
    tick = kill_mid_run(out, name, threads, rng)
    with h5py.File(partial(out), "r") as f:  # the killed file holds at least the checkpoint
        assert int(f.attrs["ticks_recorded"]) >= tick
    proc = run_bankrun("resume", partial(out), "--threads", resume_threads)
    assert f"at tick {tick} of" in proc.stderr
    assert out.exists() and not partial(out).exists()
    assert not rolling_checkpoint(out).exists()  # removed once the run is complete
    assert run_file_differences(uninterrupted[name], out) == []
    with h5py.File(out, "r") as f:
        assert attr_str(f.attrs["status"]) == "complete"
        assert attr_str(f.attrs["resumed_at_ticks"]) == str(tick)
        assert int(f.attrs["threads"]) == resume_threads


def test_resume_after_sigterm_and_a_second_kill(tmp_path, uninterrupted):
    """SIGTERM (a Slurm time limit) saves a checkpoint at the tick where the run stops;
    the resumed run is killed again and resumed again."""
    rng = random.Random(f"{SEED}-twice")
    out = tmp_path / "run.h5"
    # Early in the run, so that the resumed part has checkpoints of its own to be killed after.
    first = kill_mid_run(out, "contagion", 2, rng, sig=signal.SIGTERM, wait_up_to=1.0)
    with h5py.File(partial(out), "r") as f:  # stopped after the checkpoint's tick
        assert attr_str(f.attrs["status"]) == "interrupted"
        assert int(f.attrs["ticks_recorded"]) == first
    proc = subprocess.Popen([str(BANKRUN), "resume", str(rolling_checkpoint(out)), "--quiet",
                             "--threads", "1"], stderr=subprocess.PIPE, text=True)
    # Killed at a random moment after the resumed part's first checkpoint.
    while proc.poll() is None:
        try:
            if checkpoint_tick(rolling_checkpoint(out)) > first:
                break
        except OSError:  # being replaced
            pass
        time.sleep(0.002)
    time.sleep(rng.uniform(0.0, 0.3))
    proc.kill()
    proc.communicate()
    second = checkpoint_tick(rolling_checkpoint(out))
    print(f"second kill: checkpoint at tick {second}")
    run_bankrun("resume", out, "--threads", "2", "--quiet")
    assert run_file_differences(uninterrupted["contagion"], out) == []
    with h5py.File(out, "r") as f:
        resumed = attr_str(f.attrs["resumed_at_ticks"]).split(",")
    assert resumed[0] == str(first) and resumed[-1] == str(second) and len(resumed) <= 2


def test_kept_checkpoint_and_wall_time_interval(tmp_path, uninterrupted):
    """--checkpoint-at keeps OUT.tick<T>.ckpt after the run completes; a wall-time interval
    writes the rolling one; resuming from a kept checkpoint of a killed run works too."""
    scenario, overrides, _ = SCENARIOS["reference"]
    out = tmp_path / "run.h5"
    run_bankrun("run", scenario, "-o", out, "--quiet", "--checkpoint-at", "20,60",
                "--checkpoint-every", "0.01s", *overrides)
    assert not rolling_checkpoint(out).exists()
    for t in (20, 60):
        assert checkpoint_tick(Path(f"{out}.tick{t}.ckpt")) == t
    # The complete run cannot be resumed ...
    proc = run_bankrun("resume", f"{out}.tick20.ckpt", check=False)
    assert proc.returncode == 2 and "is complete: nothing to resume" in proc.stderr
    # ... but once its file is back to a .partial (as a killed run leaves it), it can be.
    out.rename(partial(out))
    run_bankrun("resume", f"{out}.tick20.ckpt", "--quiet")
    assert run_file_differences(uninterrupted["reference"], out) == []


def test_resume_errors(tmp_path):
    scenario, overrides, _ = SCENARIOS["reference"]
    out = tmp_path / "run.h5"
    proc = run_bankrun("resume", partial(out), check=False)
    assert proc.returncode == 2
    assert "no checkpoint" in proc.stderr and "--checkpoint-every" in proc.stderr
    run_bankrun("run", scenario, "-o", out, "--quiet", "--checkpoint-at", "30", *overrides)
    out.unlink()  # neither the output nor its .partial is there
    proc = run_bankrun("resume", f"{out}.tick30.ckpt", check=False)
    assert proc.returncode == 1 and "is missing" in proc.stderr
    # Another run's .partial under the checkpoint's name: refused, and left untouched.
    run_bankrun("run", scenario, "-o", out, "--quiet", "--seed", "7", *overrides)
    out.rename(partial(out))
    before = partial(out).read_bytes()
    proc = run_bankrun("resume", f"{out}.tick30.ckpt", check=False)
    assert proc.returncode == 1
    assert "is not the run the checkpoint was saved from" in proc.stderr
    assert partial(out).read_bytes() == before
    # --force on a new run removes a stale rolling checkpoint with the .partial.
    rolling_checkpoint(out).write_bytes(b"stale")
    run_bankrun("run", scenario, "-o", out, "--quiet", "--force", *overrides)
    assert not rolling_checkpoint(out).exists()
    not_a_checkpoint = tmp_path / "x.ckpt"
    not_a_checkpoint.write_text("hello")
    proc = run_bankrun("resume", not_a_checkpoint, check=False)
    assert proc.returncode == 1 and "not an HDF5 file" in proc.stderr
    proc = run_bankrun("run", scenario, "-o", tmp_path / "y.h5", "--checkpoint-every", "5d",
                       check=False)
    assert proc.returncode == 2 and "--checkpoint-every '5d'" in proc.stderr
    proc = run_bankrun("run", scenario, "-o", tmp_path / "y.h5", "--checkpoint-at", "100",
                       check=False)
    assert proc.returncode == 2 and "expected a tick in 1 .. 99" in proc.stderr

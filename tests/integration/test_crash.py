"""Crash, signal and disk-full tests of `bankrun run` (issue 12 §1), on the real binary.

The rule under test (output/README.md, "Life of a file"): only a complete run's file has the
final name; an interrupted (SIGINT -> 130, SIGTERM -> 143) or failed (exit 1) run is closed as
OUT.partial marked with its status; a killed one leaves OUT.partial marked "running" holding
the ticks flushed so far. After every kill or signal below: the final name is absent unless the
run completed, and the .partial opens with h5py and with bankrun.open, its status and
ticks_recorded agreeing with its datasets (their first ticks_recorded rows hold ticks
0..ticks_recorded-1 and conserve money). The random moments are seeded and printed.
"""
import os
import random
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import BANKRUN, REFERENCE_YAML, SOURCE_DIR, attr_str

sys.path.insert(0, str(SOURCE_DIR / "analysis"))
import bankrun  # noqa: E402

KILLS = 22            # kill -9 moments that land on a live run (issue: >= 20)
SIGNALS_EACH = 5      # SIGTERM and SIGINT moments each (issue: >= 5)
FLUSH_SECONDS = 0.05  # many flushes, so that kills land in them
# Nobody withdraws, so every tick does the same full work; many ticks, so many flushes.
LONG_RUN = ["--threads", "1", "--quiet", "--set", "population.agents=5000",
            "--set", "time.ticks=40000", "--set", "stress.news_weight=0",
            "--set", "stress.peer_weight=0", "--set", "stress.flow_weight=0",
            "--flush-seconds", str(FLUSH_SECONDS)]
PER_TICK = ["time/tick", "population/withdrawn_agents", "population/self_custody_cents",
            "signals/news", "institutions/bank/deposits_cents", "institutions/bank/signals/flow"]


def start(out, *extra):
    return subprocess.Popen([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out),
                             *LONG_RUN, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def timing(tmp_path_factory):
    """One complete run: its wall time as seen from here, and its set-up time."""
    out = tmp_path_factory.mktemp("timing") / "full.h5"
    t0 = time.monotonic()
    proc = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out),
                           *[a for a in LONG_RUN if a != "--quiet"]],
                          capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    setup = float(re.search(r"set-up ([\d.]+) s", proc.stdout).group(1))
    assert out.exists() and not Path(str(out) + ".partial").exists()
    print(f"\nlong run: {wall:.2f} s from here, set-up {setup:.3f} s")
    return wall, setup


class Moments:
    """Random moments (s after the start) in turn in the start-up and set-up (1 in 5), the
    tick loop (3 in 5) and around the finish (1 in 5). The run's length is re-estimated
    from each run (a loaded machine makes it vary), so the strata stay where they belong."""

    def __init__(self, seed, wall, setup):
        self.rng = random.Random(seed)
        self.wall, self.first, self.k = wall, max(setup * 1.5, 0.05), 0

    def next(self):
        stratum, self.k = self.k % 5, self.k + 1
        a, b = [(0.0, self.first), (self.first, 0.9 * self.wall)][min(stratum, 1)] \
            if stratum < 4 else (0.9 * self.wall, 1.05 * self.wall)
        return round(self.rng.uniform(a, b), 3)

    def observed(self, at, elapsed, completed):
        if completed:
            self.wall = elapsed
        elif at > self.wall:
            self.wall = at * 1.1


def stop_at_random_moments(tmp_path, moments, send, wanted):
    """Starts the long run and sends it `send` at the next moment, until `wanted` of them
    landed on a live process (a run that completed first does not count; at most 2 x
    wanted tries). Returns [(moment, return code, out path)]."""
    landed, tries = [], []
    while len(landed) < wanted and len(tries) < 2 * wanted:
        at = moments.next()
        out = tmp_path / f"run{len(tries)}.h5"
        t0 = time.monotonic()
        proc = start(out)
        time.sleep(at)
        send(proc)
        proc.communicate(timeout=120)
        moments.observed(at, time.monotonic() - t0, proc.returncode == 0)
        tries.append((at, proc.returncode, out))
        if proc.returncode != 0:
            landed.append(tries[-1])
    print(f"moments (s): {[t[0] for t in tries]}")
    assert len(landed) == wanted, f"only {len(landed)} of {len(tries)} tries landed"
    return tries


def check_partial(partial, statuses):
    """The .partial opens with h5py and with bankrun.open; its status is one of `statuses`
    and the first ticks_recorded rows of the per-tick datasets are the ticks recorded (exactly
    that many rows unless killed during a flush). Returns (status, ticks)."""
    with h5py.File(partial, "r") as f:
        status = attr_str(f.attrs["status"])
        ticks = int(f.attrs["ticks_recorded"])
        assert status in statuses, (partial, status)
        # A kill during a flush may leave datasets longer than ticks_recorded (output/
        # README.md); their first ticks_recorded rows must be the ticks recorded.
        for name in PER_TICK:
            assert f[name].shape[0] >= ticks, (partial, name, f[name].shape, ticks)
            if status != "running":
                assert f[name].shape[0] == ticks, (partial, name, f[name].shape, ticks)
        assert (f["time/tick"][:ticks] == np.arange(ticks)).all(), partial
        custody = f["population/self_custody_cents"][:ticks]
        deposits = f["institutions/bank/deposits_cents"][:ticks]
        issued = int(f["institutions/bank"].attrs["issued_cents"])
        assert (custody + deposits == issued).all(), partial  # conservation, every row
        if status == "interrupted":
            assert int(f["summary"].attrs["ticks_run"]) == ticks
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = bankrun.open(partial)
        assert len(run.time) == ticks and len(run.institutions["bank"]) == ticks
    assert any(status in str(w.message) for w in caught), [str(w.message) for w in caught]
    return status, ticks


def check_after(out, rc, stopped_codes, statuses):
    """What one stopped run left. rc: the return code; stopped_codes: those of a stopped run
    (a negative code is death by that signal). Returns a short description."""
    partial = Path(str(out) + ".partial")
    if rc == 0:  # it completed before the kill
        assert out.exists() and not partial.exists()
        with h5py.File(out, "r") as f:
            assert attr_str(f.attrs["status"]) == "complete"
        return "complete"
    assert rc in stopped_codes, rc
    assert not out.exists(), "a run that did not complete left a file under the final name"
    if not partial.exists():
        return "no file"  # stopped before the writer created it
    status, ticks = check_partial(partial, statuses)
    return f"{status} {ticks}"


def test_kill_9_at_random_moments(tmp_path, timing):
    wall, setup = timing
    tries = stop_at_random_moments(tmp_path, Moments(20261203, wall, setup),
                                   lambda proc: proc.kill(), KILLS)
    outcomes = [check_after(out, rc, {-signal.SIGKILL}, {"running"}) for _, rc, out in tries]
    print("outcomes:", outcomes)
    left = sum(o.startswith("running") for o in outcomes)
    print(f"kills landed: {KILLS}; .partial files left: {left}, every one consistent (opens "
          f"with h5py and bankrun.open; its first ticks_recorded rows are the ticks recorded)")
    # Enough of them must have reached the tick loop (files with ticks) to mean much.
    assert sum(o.startswith("running") and o != "running 0" for o in outcomes) >= KILLS // 2


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stop_signal_at_random_moments(tmp_path, timing, sig, code):
    """A stop signal closes the run as `.partial` marked "interrupted" with exit 130/143.
    Before the writer exists (start-up, set-up) the signal's default action ends the
    process (-sig here; a shell reports 128 + sig, the same 130/143); during the finish the
    run is already complete and exits 0."""
    wall, setup = timing
    tries = stop_at_random_moments(tmp_path, Moments(int(sig), wall, setup),
                                   lambda proc: proc.send_signal(sig), SIGNALS_EACH)
    outcomes = []
    for _, rc, out in tries:
        outcome = check_after(out, rc, {code, -sig}, {"interrupted", "running"})
        if rc == code:
            assert outcome.startswith("interrupted"), outcome
        outcomes.append(f"rc {rc}: {outcome}")
    print(f"{sig.name} outcomes:", outcomes)
    assert sum(o.startswith(f"rc {code}: interrupted") for o in outcomes) >= SIGNALS_EACH // 2


def test_stop_message_names_the_partial_and_the_exit_code(tmp_path, timing):
    out = tmp_path / "msg.h5"
    proc = start(out, "--set", "time.ticks=4000000")  # cannot end before the signal
    deadline = time.monotonic() + 60
    while not Path(f"{out}.partial").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143
    assert f"{out}.partial marked status=interrupted (exit 143)" in err, err


def test_sigterm_then_sigkill_as_slurm_does(tmp_path, timing):
    """Slurm at a time limit: SIGTERM, then SIGKILL a moment later (KillWait). Either the run
    closed its .partial as "interrupted" in time, or it holds the ticks flushed so far."""
    wall, _ = timing
    out = tmp_path / "slurm.h5"
    proc = start(out)
    time.sleep(wall * 0.5)
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=60)
    print(f"\nSIGTERM then SIGKILL: rc {proc.returncode}")
    check_after(out, proc.returncode, {143, -signal.SIGKILL}, {"interrupted", "running"})


@pytest.fixture
def tmpfs(tmp_path):
    """mount(options) -> a fresh tmpfs mounted under tmp_path; unmounted after the test.
    Skips where the test cannot mount (not root, or no CAP_SYS_ADMIN in a container)."""
    mounted = []

    def _mount(options):
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a tmpfs (run the suite as root to test this)")
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield _mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_disk_full_is_a_clear_error(tmpfs):
    disk = tmpfs("size=2m")
    # Leave 1 MiB: the file's header (~130 KiB) fits, its ~2 MiB of ticks do not.
    (disk / "filler").write_bytes(b"\0" * (1024 * 1024))
    out = disk / "full.h5"
    proc = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out),
                           *LONG_RUN], capture_output=True, text=True, timeout=300)
    print("\n" + proc.stderr.strip())
    assert proc.returncode == 1, proc.stderr  # an error, not a crash
    assert proc.stderr.startswith("bankrun: run failed: HDF5 output " + str(out) + ".partial")
    assert "No space left on device" in proc.stderr, proc.stderr
    assert not out.exists()  # nothing under the final name
    assert not Path(str(out) + ".partial.new").exists()
    partial = Path(str(out) + ".partial")
    # What is left is the failed run's .partial (it may not be readable: the disk was full).
    print(f"{partial.name} left: {partial.exists()}")


def test_existing_output_is_refused_unless_force(tmp_path, bankrun_bin):
    out = tmp_path / "o.h5"
    quick = ["--quiet", "--set", "population.agents=1000", "--set", "time.ticks=20"]
    first = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), *quick],
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = out.stat().st_mtime_ns, out.read_bytes()
    again = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), *quick],
                           capture_output=True, text=True)
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--force" in again.stderr, again.stderr
    assert (out.stat().st_mtime_ns, out.read_bytes()) == before  # untouched
    # A left-over .partial (a killed run) is refused too: it is what a resume continues.
    out.unlink()
    partial = Path(str(out) + ".partial")
    partial.write_bytes(b"left over")
    again = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), *quick],
                           capture_output=True, text=True)
    assert again.returncode == 2 and "o.h5.partial' already exists" in again.stderr
    forced = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), *quick,
                             "--force"], capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert out.exists() and not partial.exists()
    with h5py.File(out, "r") as f:
        assert attr_str(f.attrs["status"]) == "complete"


def run_expecting_usage_error(out, needle):
    proc = subprocess.run([str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr, proc.stderr
    assert "set-up" not in proc.stdout  # refused before any set-up
    return proc


def test_output_that_is_a_folder(tmp_path, bankrun_bin):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    run_expecting_usage_error(folder, "is a folder")
    assert list(folder.iterdir()) == []


def test_output_under_a_file(tmp_path, bankrun_bin):
    plain = tmp_path / "plain"
    plain.write_text("x")
    run_expecting_usage_error(plain / "x.h5", "does not exist")


def test_unwritable_folder(tmp_path, tmpfs):
    # Root ignores permission bits, so a read-only mount stands for an unwritable folder.
    readonly = tmpfs("ro,size=1m")
    run_expecting_usage_error(readonly / "x.h5", "cannot write in output directory")

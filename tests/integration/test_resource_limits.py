"""Resource limits (sim/memory.*): a scenario that needs more memory than is available is
refused before anything is allocated, quickly, with exit 1, a message that says how much
it would need, and no output file (nor .partial) left behind."""
import os
import re
import time

import h5py
import pytest

from conftest import REFERENCE_YAML, run_bankrun

GIB = 1 << 30


def run_with_limit(tmp_path, limit_bytes, *overrides):
    """Runs the reference scenario with BANKRUN_MEMORY_LIMIT_BYTES set; returns (proc, s, out)."""
    out = tmp_path / "out.h5"
    env = dict(os.environ, BANKRUN_MEMORY_LIMIT_BYTES=str(limit_bytes))
    sets = [arg for o in overrides for arg in ("--set", o)]
    start = time.monotonic()
    proc = run_bankrun("run", REFERENCE_YAML, "-o", out, "--quiet", *sets, check=False, env=env,
                       timeout=60)
    return proc, time.monotonic() - start, out


def assert_refused(tmp_path, proc, seconds, out):
    assert proc.returncode == 1, proc.stderr
    assert seconds < 5, f"refusal took {seconds:.1f} s"
    assert not out.exists()
    assert not out.with_name(out.name + ".partial").exists()
    assert list(tmp_path.iterdir()) == []


def test_four_billion_agents_are_refused_before_allocation(tmp_path):
    proc, seconds, out = run_with_limit(tmp_path, 16 * GIB, "population.agents=4000000000")
    assert_refused(tmp_path, proc, seconds, out)
    # 4e9 agents: 73 bytes of state (population and engine arrays); at the peak, the
    # population (39) beside a k = 10 network (40) and its transpose for the peers (48).
    assert re.fullmatch(
        r"bankrun: run failed: the scenario needs about 473\.1 GiB \(4,000,000,000 agents: "
        r"272\.4 GiB of agent state, 327\.8 GiB of network\), more than the 16\.0 GiB "
        r"available; lower population\.agents or network degree\n", proc.stderr), proc.stderr


def test_an_absurd_degree_is_refused_before_allocation(tmp_path):
    # G(n, p) with every pair an edge: 1e12 adjacency entries of 4 bytes, held twice while
    # the peers transpose the network.
    proc, seconds, out = run_with_limit(tmp_path, 16 * GIB, "population.agents=1000000",
                                        "network={type: erdos_renyi, mean_degree: 999999}")
    assert_refused(tmp_path, proc, seconds, out)
    match = re.search(r"needs about ([0-9.]+) TiB \(1,000,000 agents: [0-9.]+ MiB of agent "
                      r"state, ([0-9.]+) TiB of network\), more than the 16\.0 GiB available",
                      proc.stderr)
    assert match, proc.stderr
    assert float(match.group(2)) == pytest.approx(8e12 / 2**40, abs=0.05)  # one decimal


def test_a_limit_just_under_the_need_refuses_a_small_run(tmp_path):
    # 100,000 reference agents need about 12 MiB (test_memory.cpp); 8 MiB is not enough.
    proc, seconds, out = run_with_limit(tmp_path, 8 << 20, "population.agents=100000")
    assert_refused(tmp_path, proc, seconds, out)
    assert "needs about 11.7 MiB" in proc.stderr
    assert "more than the 8.0 MiB available" in proc.stderr


def test_a_normal_scenario_runs_under_a_generous_limit(tmp_path):
    proc, _, out = run_with_limit(tmp_path, 4 * GIB, "population.agents=20000", "time.ticks=20")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] in ("complete", b"complete")


def test_a_malformed_limit_is_an_error(tmp_path):
    proc, _, out = run_with_limit(tmp_path, "lots", "population.agents=1000")
    assert proc.returncode == 1
    assert "BANKRUN_MEMORY_LIMIT_BYTES: expected a number of bytes, got 'lots'" in proc.stderr
    assert not out.exists()


def test_validate_prints_the_estimate_the_run_checks(tmp_path):
    # The same figures as the refusal above (4e9 agents), and the limit it would check.
    env = dict(os.environ, BANKRUN_MEMORY_LIMIT_BYTES=str(16 * GIB))
    proc = run_bankrun("validate", REFERENCE_YAML, "--set", "population.agents=4000000000",
                       check=False, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert ("estimated peak memory: 473.1 GiB (272.4 GiB of agent state, 327.8 GiB of network); "
            "16.0 GiB available here\n") in proc.stdout, proc.stdout

"""bankrun's reference scenario against the NumPy reference implementation
(shared/bench/numpy_ref.py): the mean trajectory over seeds must agree within the
statistical tolerance implied by the seed-to-seed spread."""
import subprocess

import numpy as np
import pytest

from conftest import REFERENCE_YAML, SHARED_DIR, run_bankrun

import h5py

N = 10_000
SEEDS = 24
NUMPY_REF = SHARED_DIR / "bench/numpy_ref.py"


def numpy_trajectories():
    agents, balance = [], []
    for seed in range(1, SEEDS + 1):
        out = subprocess.run(["/usr/bin/python3", str(NUMPY_REF), str(N), "100", str(seed),
                              "--traj"], capture_output=True, text=True, check=True).stdout
        rows = [line.split() for line in out.splitlines() if line.startswith("traj ")]
        agents.append([float(r[2].split("=")[1]) for r in rows])
        balance.append([float(r[3].split("=")[1]) for r in rows])
    return np.array(agents), np.array(balance)


def bankrun_trajectories(tmp_path):
    agents, balance = [], []
    for seed in range(1, SEEDS + 1):
        out = tmp_path / f"ref{seed}.h5"
        run_bankrun("run", REFERENCE_YAML, "-o", out, "--quiet", "--seed", seed,
                    "--set", f"population.agents={N}")
        with h5py.File(out) as f:
            agents.append(f["population/withdrawn_agents"][:] / N)
            bank = f["institutions/bank"]
            initial = bank.attrs["initial_deposits_cents"]
            balance.append(np.cumsum(bank["payments_cents"][:]) / initial)
    return np.array(agents), np.array(balance)


def assert_means_agree(ours, theirs, what):
    # Per tick: |mean_a - mean_b| <= z * sqrt(se_a^2 + se_b^2) + 1/N (one agent's worth of
    # discreteness where both spreads vanish). z = 4 keeps the family-wise false-alarm
    # rate over 100 correlated ticks well below 1%.
    se = np.sqrt(ours.var(axis=0, ddof=1) / len(ours) + theirs.var(axis=0, ddof=1) / len(theirs))
    diff = np.abs(ours.mean(axis=0) - theirs.mean(axis=0))
    bad = np.nonzero(diff > 4 * se + 1.0 / N)[0]
    assert bad.size == 0, (f"{what}: mean trajectories differ at ticks {bad.tolist()}: "
                           f"ours {ours.mean(axis=0)[bad]}, reference {theirs.mean(axis=0)[bad]}, "
                           f"se {se[bad]}")


@pytest.mark.skipif(not NUMPY_REF.exists(), reason=f"reference implementation not at {NUMPY_REF}")
def test_reference_trajectory_matches_numpy(tmp_path, bankrun_bin):
    ours_agents, ours_balance = bankrun_trajectories(tmp_path)
    ref_agents, ref_balance = numpy_trajectories()
    # The comparison has power: the trajectories move (shock at t=10, cascade after).
    assert ref_agents.mean(axis=0)[5] < 0.2 and ref_agents.mean(axis=0)[-1] > 0.9
    assert_means_agree(ours_agents, ref_agents, "fraction of agents withdrawn")
    assert_means_agree(ours_balance, ref_balance, "fraction of balance withdrawn")

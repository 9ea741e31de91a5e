"""bankrun's reference scenario against an independent NumPy implementation of the same
model (reference_model_numpy.py, beside this file): the mean trajectory over seeds must agree
within the statistical tolerance implied by the seed-to-seed spread."""
import numpy as np

from conftest import REFERENCE_YAML, run_bankrun
import reference_model_numpy

import h5py

N = 10_000
SEEDS = 24


def numpy_trajectories():
    runs = [reference_model_numpy.simulate(N, 100, seed) for seed in range(1, SEEDS + 1)]
    return np.array([r[0] for r in runs]), np.array([r[1] for r in runs])


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


def test_reference_trajectory_matches_numpy(tmp_path, bankrun_bin):
    ours_agents, ours_balance = bankrun_trajectories(tmp_path)
    ref_agents, ref_balance = numpy_trajectories()
    # The comparison has power: the trajectories move (shock at t=10, cascade after).
    assert ref_agents.mean(axis=0)[5] < 0.2 and ref_agents.mean(axis=0)[-1] > 0.9
    assert_means_agree(ours_agents, ref_agents, "fraction of agents withdrawn")
    assert_means_agree(ours_balance, ref_balance, "fraction of balance withdrawn")

"""bankrun's reference scenario against an independent NumPy implementation of the same
model (reference_model_numpy.py, beside this file): the mean trajectory over seeds must agree
within the statistical tolerance implied by the seed-to-seed spread."""
import numpy as np

from conftest import REFERENCE_YAML, assert_mean_trajectories_agree, run_bankrun
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


def test_reference_trajectory_matches_numpy(tmp_path, bankrun_bin):
    ours_agents, ours_balance = bankrun_trajectories(tmp_path)
    ref_agents, ref_balance = numpy_trajectories()
    # The comparison has power: the trajectories move (shock at t=10, cascade after).
    assert ref_agents.mean(axis=0)[5] < 0.2 and ref_agents.mean(axis=0)[-1] > 0.9
    assert_mean_trajectories_agree(ours_agents, ref_agents, "fraction of agents withdrawn",
                                   N)
    assert_mean_trajectories_agree(ours_balance, ref_balance, "fraction of balance withdrawn", N)

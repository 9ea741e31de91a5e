"""bankrun's steady-state benchmark scenario against its independent NumPy implementation
(steady_state_numpy.py, beside this file): the mean aggregate trajectories over seeds must
agree within the statistical tolerance implied by the seed-to-seed spread, so that the
benchmark's ratio compares the same model."""
import h5py
import numpy as np

from conftest import SOURCE_DIR, assert_mean_trajectories_agree, run_bankrun
import steady_state_numpy

STEADY_YAML = SOURCE_DIR / "scenarios/bench/steady-state.yaml"
N = 5_000
TICKS = 150
SEEDS = 16
TOTAL_CENTS = 1.0e12  # total_balance_usd 1e10


def per_tick_and_mean(acting, withdrawn, deposits, queue_count, requested, inflows):
    """The compared aggregates of one run: per-tick shares, and per-tick flows averaged over
    the ticks (a single tick's flow is too noisy to compare)."""
    return {
        "acting share": acting / N,
        "withdrawn-at-least-once share": withdrawn / N,
        "deposits / D(0)": deposits / TOTAL_CENTS,
        "queue count / N": queue_count / N,
        "requested / D(0), mean over ticks": np.array([requested.mean() / TOTAL_CENTS]),
        "re-deposited / D(0), mean over ticks": np.array([inflows.mean() / TOTAL_CENTS]),
    }


def stack(runs):
    return {key: np.array([r[key] for r in runs]) for key in runs[0]}


def numpy_trajectories():
    runs = []
    for seed in range(1, SEEDS + 1):
        r = steady_state_numpy.simulate(N, TICKS, seed)[0]
        runs.append(per_tick_and_mean(r["acting"], r["withdrawn_agents"], r["deposits_cents"],
                                      r["queue_count"], r["requested_cents"], r["inflow_cents"]))
    return stack(runs)


def bankrun_trajectories(tmp_path):
    runs = []
    for seed in range(1, SEEDS + 1):
        out = tmp_path / f"steady{seed}.h5"
        run_bankrun("run", STEADY_YAML, "-o", out, "--quiet", "--seed", seed,
                    "--set", f"population.agents={N}")
        with h5py.File(out) as f:
            bank = f["institutions/bank"]
            assert abs(bank.attrs["initial_deposits_cents"] - TOTAL_CENTS) <= N  # cents rounding
            runs.append(per_tick_and_mean(
                f["population/acting_agents"][:], f["population/withdrawn_agents"][:],
                bank["deposits_cents"][:], bank["queue_count"][:],
                np.rint(bank["requests"][:] * 100), bank["inflows_cents"][:]))
    return stack(runs)


def test_steady_state_trajectory_matches_numpy(tmp_path, bankrun_bin):
    ours = bankrun_trajectories(tmp_path)
    ref = numpy_trajectories()
    # The comparison has power: the population keeps acting (a large, steady acting share
    # while agents keep withdrawing and re-depositing), and the queue is used.
    assert ref["acting share"].mean() > 0.95 and ours["acting share"].mean() > 0.95
    assert ref["requested / D(0), mean over ticks"].mean() > 0.005
    assert ref["re-deposited / D(0), mean over ticks"].mean() > 0.005
    assert (ref["queue count / N"].mean(axis=0) > 0).mean() > 0.5
    for what in ref:
        assert_mean_trajectories_agree(ours[what], ref[what], what, N)

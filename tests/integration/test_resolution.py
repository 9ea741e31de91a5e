"""Agent weights (super-individuals, population.classes[i].account_count): the agent count
is a resolution knob. A run with a per-account deposit-insurance limit gives the same
aggregate trajectory at 1e4, 1e5 and 1e6 agents standing for the same million accounts,
within sampling error (its size measured from replicate seeds at 1e4 agents and scaled as
1/sqrt(N)); without weights the same scenario changes qualitatively with the agent count."""
import h5py
import numpy as np

from conftest import run_scenario_text

# One million accounts of $1,000 on average (lognormal per account), insured up to $1,500
# per account (the insured share feels no stress), a news shock and a visible-outflow
# feedback. Without weights the $1e9 would be split over the agents: $100,000 each at 1e4
# agents, nearly all of it uninsured.
SCENARIO = """\
name: insured-run-resolution
seed: 1
time: {ticks: 40}
population:
  agents: 10000
  total_balance_usd: 1.0e9
  classes:
    - name: depositors
      account_count: 1.0e6
      balance_usd: {dist: lognormal, mu: 6.5, sigma: 1.2}
      threshold: {dist: normal, mean: 0.6, sd: 0.2}
      noise_sd: 0.05
stress:
  news_weight: 1
  flow_weight: 0.5
news:
  - {tick: 2, magnitude: 0.5, decay_ticks: 10}
institutions:
  - name: bank
    hot_reserve_fraction: 0.4
    illiquid_fraction: 0.7
    policies:
      - kind: deposit_insurance
        label: insurance
        when: {at_tick: 0}
        coverage_usd: 1500
        insured_stress_factor: 0
"""


def paid_share(tmp_path, agents, seed, *sets):
    out = run_scenario_text(tmp_path, "resolution", SCENARIO, f"population.agents={agents}",
                            f"seed={seed}", *sets)
    with h5py.File(out) as f:
        bank = f["institutions/bank"]
        assert f["classes"][0]["accounts_per_agent"] == 1e6 / agents or sets
        return np.cumsum(bank["payments_cents"][:]) / bank.attrs["issued_cents"]


def test_insured_run_converges_in_the_agent_count(tmp_path, bankrun_bin):
    small = np.array([paid_share(tmp_path, 10_000, seed) for seed in range(1, 9)])
    medium = np.array([paid_share(tmp_path, 100_000, seed) for seed in range(1, 4)])
    large = paid_share(tmp_path, 1_000_000, 1)
    # Sampling sd of one run at 1e4 agents, per tick (at least one cent per agent's claim,
    # so that the ticks before the shock, where nothing moves, do not divide by zero).
    sd4 = np.maximum(small.std(axis=0, ddof=1), 1e-4)

    def se(n_agents, runs):  # standard error of the mean of `runs` runs at n agents
        return sd4 * np.sqrt(10_000 / n_agents / runs)

    for mean, n, runs in ((small.mean(axis=0), 10_000, len(small)),
                          (medium.mean(axis=0), 100_000, len(medium))):
        z = np.abs(mean - large) / np.sqrt(se(n, runs) ** 2 + se(1_000_000, 1) ** 2)
        assert z.max() < 4, (n, z.max(), mean[-1], large[-1])
    # Something happened: a partial run, well inside the hot reserves (no queue limit).
    assert 0.03 < large[-1] < 0.2

    # Control: the same agents each holding one account's worth of coverage (weights off)
    # run on their uninsured balances: at 1e4 agents the run empties the hot reserves.
    unweighted = paid_share(tmp_path, 10_000, 1, "population.classes[0].account_count=10000")
    assert unweighted[-1] - large[-1] > 10 * se(10_000, 1)[-1]

#!/usr/bin/env python3
"""The reference bank-run model (scenarios/bench/reference.yaml) in plain vectorised NumPy:
the project's own independent implementation, used by test_reference_model.py to check the
engine in distribution, and usable by scripts/bench (BANKRUN_NUMPY_REF=this file).

The model (the benchmark anchor of the project; the same equations are in the comments of
scenarios/bench/reference.yaml):
    theta_i ~ Normal(0.5, 0.15) clipped to [0, 1]          withdrawal threshold
    b_i     ~ LogNormal(mu=8, sigma=1.5)                   balance
    k = 10 out-neighbours per agent, uniform over the other N - 1 agents, with replacement
    panic_i(t) = 0.6 s_t + 0.5 g(t-1) + 0.6 p_i(t-1) + eps_i(t),   eps_i ~ Normal(0, 0.05)
    s_t = 0.35 for 10 <= t <= 14 (0-based), else 0
    g(t-1)   = balance share of withdrawn agents at the end of t-1 (0 before the first tick)
    p_i(t-1) = share of i's k neighbour slots whose agent had withdrawn at the end of t-1
    i withdraws (permanently) at t if panic_i(t) > theta_i; all agents update synchronously.
Only agents that have not withdrawn draw eps (withdrawal is permanent, so this is the same
model in distribution).

usage: reference_model_numpy.py N [T=100] [SEED=1] [--traj]
prints `impl=numpy-project N=.. T=.. seed=.. setup_s=.. loop_s=.. final_frac_agents=..
final_frac_balance=..` and, with --traj, one `traj t=.. frac_agents=.. frac_balance=..` line
per tick.
"""
from __future__ import annotations

import sys
import time

import numpy as np

K = 10
NEWS_WEIGHT, FLOW_WEIGHT, PEER_WEIGHT, NOISE_SD = 0.6, 0.5, 0.6, 0.05


def news(t: int) -> float:
    return 0.35 if 10 <= t <= 14 else 0.0


def set_up(n: int, rng: np.random.Generator):
    theta = np.clip(rng.normal(0.5, 0.15, n), 0.0, 1.0)
    balance = rng.lognormal(8.0, 1.5, n)
    # Uniform over the other n - 1 agents: draw u in {0..n-2}, skip over i itself.
    neighbours = rng.integers(0, n - 1, size=(n, K), dtype=np.int64)
    neighbours += neighbours >= np.arange(n)[:, None]
    return theta, balance, neighbours


def simulate(n: int, ticks: int = 100, seed: int = 1):
    """(frac_agents, frac_balance, setup_s, loop_s): per-tick shares after each update."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    theta, balance, neighbours = set_up(n, rng)
    total = balance.sum()
    withdrawn = np.zeros(n, dtype=bool)
    frac_agents, frac_balance = np.zeros(ticks), np.zeros(ticks)
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    g = 0.0
    for t in range(ticks):
        acting = np.flatnonzero(~withdrawn)
        peers = withdrawn[neighbours[acting]].sum(axis=1) / K
        panic = (NEWS_WEIGHT * news(t) + FLOW_WEIGHT * g + PEER_WEIGHT * peers
                 + rng.normal(0.0, NOISE_SD, acting.size))
        # Two-phase update: every decision above used the state of t-1.
        withdrawn[acting[panic > theta[acting]]] = True
        frac_agents[t] = withdrawn.mean()
        frac_balance[t] = balance[withdrawn].sum() / total
        g = frac_balance[t]
    return frac_agents, frac_balance, setup_s, time.perf_counter() - t1


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    n = int(float(args[0]))
    ticks = int(args[1]) if len(args) > 1 else 100
    seed = int(args[2]) if len(args) > 2 else 1
    agents, balance, setup_s, loop_s = simulate(n, ticks, seed)
    print(f"impl=numpy-project N={n} T={ticks} seed={seed} setup_s={setup_s:.3f} "
          f"loop_s={loop_s:.4f} final_frac_agents={agents[-1]:.5f} "
          f"final_frac_balance={balance[-1]:.5f}")
    if "--traj" in argv:
        for t in range(ticks):
            print(f"traj t={t} frac_agents={agents[t]:.6f} frac_balance={balance[t]:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

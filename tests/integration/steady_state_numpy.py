#!/usr/bin/env python3
"""The steady-state benchmark model (scenarios/bench/steady-state.yaml) in plain vectorised
NumPy: the project's own independent implementation, used by test_steady_state_model.py to
check the engine in distribution and by `scripts/bench --scenario steady-state` as the
comparison it is timed against.

The model (the same equations are in the comments of scenarios/bench/steady-state.yaml):
    classes c in contiguous id ranges (largest remainder of share * N):
        retail 0.85, trader 0.12, whale 0.03 (parameters in CLASSES below)
    b_i ~ LogNormal(mu_c, s_c), rescaled so that sum b_i = 1e10 USD, rounded to cents
    theta_i ~ Normal(m_c, 0.1); noise sigma_c; withdrawal fraction omega_c
    k = 10 out-neighbours per agent, uniform over the other N - 1 agents, with replacement
    S_i(t) = N_i(t) + 0.05 P_i(t-1) + 0.2 G(t-1) + eps_i(t),   eps_i ~ Normal(0, sigma_c)
    N_i(t) = 0.35 + sum_j r_ij A_j exp(-(t - t_j) / 6) over rumours with t_j <= t < t_j + 24,
             Poisson(0.25) rumours a tick, A_j ~ Normal(0, 0.05), r_ij ~ Bernoulli(0.5)
    P_i(t-1) = share of i's neighbour slots whose agent has withdrawn at least once by t-1
    G(t-1) = (net(<= t-1) - net(<= t-1-W)) / deposits(end of t-1-W), W = 12,
             net = paid out - re-deposited; before tick 0 nothing is paid, deposits = D(0)
    hazard: an acting agent with claim c_i > 0 withdraws with probability
            h0 Phi((S_i - theta_i) / T), h0 = 0.2, T = 0.1, asking max(1, round(omega_c c_i))
            cents. Drawn as: U < h0 and (S_i - theta_i) / T > Z, U ~ Uniform, Z ~ Normal(0, 1)
            independent (NumPy has no vectorised Phi; the probability is the same)
    re-deposit: an acting agent that does not withdraw, holds o_i > 0 outside and has
            S_i < calm_c moves max(1, round(f_c o_i)) cents back with probability r_c
    queue: the tick's requests join one FIFO queue in id order; the bank pays at most
           1.6e8 USD a tick from the head (the last request reached in part), and at most
           its hot reserves (= deposits here, never binding)
    acting: every agent not waiting in the queue; paid agents act again from the next tick.
All agents update synchronously from the state at the end of t-1. Not bit-identical to
bankrun (other random numbers), the same model in distribution.

usage: steady_state_numpy.py N [T=150] [SEED=1] [--traj]
prints `impl=numpy-steady N=.. T=.. seed=.. setup_s=.. loop_s=.. updates=..` (updates: the
sum over ticks of the acting agents) and, with --traj, one `traj t=..` line per tick.
"""
from __future__ import annotations

import sys
import time

import numpy as np

K = 10
TOTAL_BALANCE_CENTS = 1.0e10 * 100
NEWS_WEIGHT, PEER_WEIGHT, FLOW_WEIGHT, FLOW_WINDOW = 1.0, 0.05, 0.2, 12
HAZARD_RATE, TEMPERATURE = 0.2, 0.1
STANDING_UNEASE = 0.35
RUMOUR_RATE, RUMOUR_SD, RUMOUR_DECAY, RUMOUR_DURATION, RUMOUR_REACH = 0.25, 0.05, 6.0, 24, 0.5
MAX_PAYOUT_CENTS = round(1.6e8 * 100)

# name, share, (mu, sigma) of log balance, threshold mean (sd 0.1), noise sd, omega,
# calm threshold, re-deposit rate, re-deposit fraction
CLASSES = [
    ("retail", 0.85, (7.0, 1.2), 0.50, 0.10, 0.2, 0.45, 0.3, 1.0),
    ("trader", 0.12, (9.0, 1.0), 0.45, 0.15, 0.5, 0.40, 0.5, 1.0),
    ("whale", 0.03, (11.0, 0.8), 0.55, 0.05, 0.3, 0.50, 0.1, 0.5),
]
THRESHOLD_SD = 0.1

SERIES = ("acting", "requests", "requested_cents", "paid_cents", "redeposits", "inflow_cents",
          "queue_count", "queue_cents", "withdrawn_agents", "deposits_cents")


def class_counts(n: int) -> np.ndarray:
    """Exact counts by largest remainder of share * n (ties to the earlier class)."""
    shares = np.array([c[1] for c in CLASSES])
    exact = shares / shares.sum() * n
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def set_up(n: int, rng: np.random.Generator) -> dict:
    counts = class_counts(n)
    class_id = np.repeat(np.arange(len(CLASSES), dtype=np.int8), counts)
    balance = np.concatenate([rng.lognormal(c[2][0], c[2][1], m) for c, m in zip(CLASSES, counts)])
    theta = np.concatenate([rng.normal(c[3], THRESHOLD_SD, m) for c, m in zip(CLASSES, counts)])
    claim = np.rint(balance * (TOTAL_BALANCE_CENTS / balance.sum())).astype(np.int64)

    def per_agent(column: int) -> np.ndarray:
        return np.array([c[column] for c in CLASSES])[class_id]

    # Uniform over the other n - 1 agents: draw u in {0..n-2}, skip over i itself.
    neighbours = rng.integers(0, n - 1, size=(n, K), dtype=np.int32)
    neighbours += neighbours >= np.arange(n, dtype=np.int32)[:, None]
    return dict(class_id=class_id, claim=claim, theta=theta, noise_sd=per_agent(4),
                omega=per_agent(5), calm=per_agent(6), redeposit_rate=per_agent(7),
                redeposit_fraction=per_agent(8), neighbours=neighbours)


def draw_rumours(ticks: int, rng: np.random.Generator) -> list[tuple[int, float]]:
    """(tick, magnitude) of every rumour of the news process, drawn at set-up."""
    rumours = []
    for t in range(ticks):
        for _ in range(rng.poisson(RUMOUR_RATE)):
            rumours.append((t, rng.normal(0.0, RUMOUR_SD)))
    return rumours


def simulate(n: int, ticks: int = 150, seed: int = 1):
    """(series, setup_s, loop_s): series[name][t] for the names in SERIES."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    a = set_up(n, rng)
    claim, theta, neighbours = a["claim"], a["theta"], a["neighbours"]
    noise_sd, omega, calm = a["noise_sd"], a["omega"], a["calm"]
    redeposit_rate, redeposit_fraction = a["redeposit_rate"], a["redeposit_fraction"]
    rumours = draw_rumours(ticks, rng)
    outside = np.zeros(n, dtype=np.int64)
    decided = np.zeros(n, dtype=bool)   # has withdrawn at least once (what peers see)
    pending = np.zeros(n, dtype=bool)   # waiting in the queue: does not act
    queue_ids = np.zeros(0, dtype=np.int64)
    queue_left = np.zeros(0, dtype=np.int64)  # cents still owed on each queued request
    deposits0 = int(claim.sum())
    hot = deposits0
    # net outflow and deposits at the end of each tick, index t + 1 (index 0: before tick 0)
    net_end = np.zeros(ticks + 1, dtype=np.int64)
    deposits_end = np.full(ticks + 1, deposits0, dtype=np.int64)
    reach = {}  # live rumour index -> its reach mask r_ij
    series = {name: np.zeros(ticks, dtype=np.int64) for name in SERIES}
    setup_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    for t in range(ticks):
        # Observe: news of t, peers and flow of t-1.
        news = np.full(n, STANDING_UNEASE)
        for j, (tj, magnitude) in enumerate(rumours):
            if tj > t:
                break
            if t >= tj + RUMOUR_DURATION:
                reach.pop(j, None)
                continue
            if j not in reach:
                reach[j] = rng.random(n) < RUMOUR_REACH
            news += reach[j] * (magnitude * np.exp(-(t - tj) / RUMOUR_DECAY))
        peers = decided[neighbours].sum(axis=1, dtype=np.int32) * (1.0 / K)
        start = max(t - FLOW_WINDOW, 0)  # index of the end of tick t-1-W
        flow = (net_end[t] - net_end[start]) / deposits_end[start]
        # Decide (synchronous: everything above is the state at the end of t-1).
        stress = (NEWS_WEIGHT * news + PEER_WEIGHT * peers + FLOW_WEIGHT * flow
                  + noise_sd * rng.standard_normal(n))
        acting = ~pending
        withdraw = acting & (claim > 0) & (rng.random(n) < HAZARD_RATE)
        withdraw &= (stress - theta) * (1.0 / TEMPERATURE) > rng.standard_normal(n)
        redeposit = (acting & ~withdraw & (outside > 0) & (stress < calm)
                     & (rng.random(n) < redeposit_rate))
        # Submit: re-deposits are credited, then the requests join the queue in id order.
        movers = np.flatnonzero(redeposit)
        back = np.clip(np.rint(redeposit_fraction[movers] * outside[movers]).astype(np.int64),
                       1, outside[movers])
        outside[movers] -= back
        claim[movers] += back
        inflow = int(back.sum())
        hot += inflow
        askers = np.flatnonzero(withdraw)
        asked = claim[askers]
        fraction = omega[askers]
        asked = np.where(fraction >= 1.0, asked,
                         np.clip(np.rint(fraction * asked).astype(np.int64), 1, asked))
        decided[askers] = True
        pending[askers] = True
        queue_ids = np.concatenate([queue_ids, askers])
        queue_left = np.concatenate([queue_left, asked])
        # Settle: pay from the head, at most the payout limit (and the hot reserves).
        budget = min(MAX_PAYOUT_CENTS, hot)
        owed_so_far = np.cumsum(queue_left)
        full = int(np.searchsorted(owed_so_far, budget, side="right"))
        paid_ids = queue_ids[:full]
        claim[paid_ids] -= queue_left[:full]
        outside[paid_ids] += queue_left[:full]
        pending[paid_ids] = False
        paid = int(owed_so_far[full - 1]) if full > 0 else 0
        if full < queue_left.size and budget > paid:  # the next request is paid in part
            part = budget - paid
            claim[queue_ids[full]] -= part
            outside[queue_ids[full]] += part
            queue_left[full] -= part
            paid = budget
        queue_ids, queue_left = queue_ids[full:], queue_left[full:]
        hot -= paid
        # Record.
        net_end[t + 1] = net_end[t] + paid - inflow
        deposits_end[t + 1] = deposits_end[t] + inflow - paid
        row = series
        row["acting"][t] = np.count_nonzero(acting)
        row["requests"][t] = askers.size
        row["requested_cents"][t] = int(asked.sum())
        row["paid_cents"][t] = paid
        row["redeposits"][t] = movers.size
        row["inflow_cents"][t] = inflow
        row["queue_count"][t] = queue_ids.size
        row["queue_cents"][t] = int(queue_left.sum())
        row["withdrawn_agents"][t] = np.count_nonzero(decided)
        row["deposits_cents"][t] = deposits_end[t + 1]
    return series, setup_s, time.perf_counter() - t1


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    n = int(float(args[0]))
    ticks = int(args[1]) if len(args) > 1 else 150
    seed = int(args[2]) if len(args) > 2 else 1
    series, setup_s, loop_s = simulate(n, ticks, seed)
    print(f"impl=numpy-steady N={n} T={ticks} seed={seed} setup_s={setup_s:.3f} "
          f"loop_s={loop_s:.4f} updates={int(series['acting'].sum())}")
    if "--traj" in argv:
        for t in range(ticks):
            print(f"traj t={t} " + " ".join(f"{name}={series[name][t]}" for name in SERIES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Diamond-Dybvig (1983) as a plain scenario (scenarios/theory/diamond-dybvig.yaml, whose
comments derive the figures asserted here): no sunspot, no run; a transient sunspot above
the critical size starts a run that sustains itself, one below dies out; suspension of
convertibility at f^ = lambda prevents the run and every patient depositor gets R. The
payoffs recorded at the final date say whether running was a best response."""
import math

import h5py
import numpy as np
import pytest

from conftest import SOURCE_DIR, run_bankrun

SCENARIO = SOURCE_DIR / "scenarios/theory/diamond-dybvig.yaml"
LAMBDA, R, ELL = 0.25, 1.5, 0.5          # the scenario's impatient share, return, liquidation value
MU, SD = 0.5, 0.1                        # patient thresholds
SUSPENSION = "institutions[0].halt.withdrawn_fraction_at_least=0.25"


def normal_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def sunspot(magnitude):
    return f"news[0].magnitude={magnitude}"


def outcome(tmp_path, *sets):
    out = tmp_path / f"dd{len(list(tmp_path.glob('dd*.h5')))}.h5"
    args = ["run", SCENARIO, "-o", out, "--quiet"]
    for s in sets:
        args += ["--set", s]
    run_bankrun(*args)
    with h5py.File(out) as f:
        by_class = f["population/by_class"]
        names = by_class.attrs["class_names"].decode().split(",")
        agents = f["classes"][:]["agents"]
        patient = names.index("patient")
        bank = f["institutions/bank"]
        paid = np.cumsum(bank["payments_cents"][:]) / bank.attrs["initial_deposits_cents"]
        payoffs = {(names[int(r["class_id"])], "ran" if r["ran"] else "waited"): r
                   for r in f["summary/payoffs"][:]}
        return {
            "patient_run": by_class["withdrawn_agents"][-1][patient] / agents[patient],
            "patient_decided": by_class["withdrawn_agents"][:, patient],
            "impatient": by_class["withdrawn_agents"][-1][names.index("impatient")]
            / agents[names.index("impatient")],
            "paid_early": paid[-2],  # before the final date (the last tick)
            "paid": paid,
            "halt": int(f["summary/bank"].attrs["halt_tick"]),
            "payoffs": payoffs,
            "patients": int(agents[patient]),
        }


def payoff(o, group):
    row = o["payoffs"][("patient", group)]
    return row["final_cents"] / row["before_cents"]


def test_no_sunspot_no_run_and_patient_get_about_r(tmp_path, bankrun_bin):
    o = outcome(tmp_path)
    assert o["impatient"] == 1.0
    # Only the patient with thresholds below G = 0.25 (Phi(-2.5) = 0.6%) withdraw early.
    expected = normal_cdf((LAMBDA - MU) / SD)
    se = math.sqrt(expected * (1 - expected) / o["patients"])
    assert abs(o["patient_run"] - expected) < 5 * se + 1e-3
    assert o["halt"] == -1
    f = o["paid_early"]
    # A patient depositor who waits gets R (1 - lambda - (f - lambda) / ell) / (1 - f), less
    # under a cent (each payout is floored to the cent; a claim is 10,000 cents).
    assert abs(payoff(o, "waited") - R * (1 - LAMBDA - (f - LAMBDA) / ELL) / (1 - f)) < 1e-4
    assert payoff(o, "waited") > 1.45
    # Waiting beats running (paid 1 per unit): running is not a best response.
    assert payoff(o, "ran") == 1.0 < payoff(o, "waited")
    assert o["payoffs"][("impatient", "ran")]["payoff"] == 1.0


def test_transient_sunspot_above_the_critical_size_starts_a_self_sustaining_run(
        tmp_path, bankrun_bin):
    o = outcome(tmp_path, sunspot(0.25))
    decided = o["patient_decided"]
    # The run goes on after the sunspot (tick 2 only): more patient decide at tick 3.
    assert decided[3] > decided[2] * 1.2
    assert o["patient_run"] > 0.85
    # The bank pays lambda + (1 - lambda) ell = 0.625 early, then nothing is left.
    assert abs(o["paid_early"] - (LAMBDA + (1 - LAMBDA) * ELL)) < 1e-9
    assert payoff(o, "waited") == 0.0
    # Running is a best response: those who ran were paid something, those who waited nothing.
    assert payoff(o, "ran") > 0.5 > payoff(o, "waited")


def test_transient_sunspot_below_the_critical_size_dies_out(tmp_path, bankrun_bin):
    o = outcome(tmp_path, sunspot(0.1))
    decided = o["patient_decided"]
    # G(2) = 0.25 + 0.75 Phi((0.2547 + 0.1 - 0.5) / 0.1), below G* = 0.428: no one after tick 2.
    g2 = LAMBDA + (1 - LAMBDA) * normal_cdf((0.2547 + 0.1 - MU) / SD)
    assert abs(o["paid"][2] - g2) < 0.01
    assert (decided[3:] == decided[2]).all()
    assert payoff(o, "waited") > 1.3 > 1.0 == payoff(o, "ran")


def test_suspension_at_lambda_prevents_the_run_and_pays_r(tmp_path, bankrun_bin):
    run = outcome(tmp_path, sunspot(0.25))
    o = outcome(tmp_path, sunspot(0.25), SUSPENSION)
    assert o["halt"] == 0                        # suspended once the impatient were paid
    assert abs(o["paid_early"] - LAMBDA) < 1e-9  # exactly f^ = lambda, never more
    decided = o["patient_decided"]
    assert (decided[3:] == decided[2]).all()     # the run stops with the sunspot
    assert o["patient_run"] < run["patient_run"]
    # Every patient depositor, queued or not, gets R at the final date (to the cent).
    assert abs(payoff(o, "waited") - R) < 1e-4
    assert abs(payoff(o, "ran") - R) < 1e-4


def test_payoffs_from_the_analysis_package(tmp_path, bankrun_bin):
    import sys
    sys.path.insert(0, str(SOURCE_DIR / "analysis"))
    import bankrun

    out = tmp_path / "dd-package.h5"
    run_bankrun("run", SCENARIO, "-o", out, "--quiet", "--set", SUSPENSION, "--set",
                sunspot(0.25))
    payoffs = bankrun.open(out).payoffs
    assert list(payoffs.index.names) == ["class", "ran"]
    assert payoffs.loc[("patient", False), "payoff"] == pytest.approx(R, abs=1e-4)
    assert payoffs.loc[("impatient", True), "payoff"] == 1.0
    assert payoffs["agents"].sum() == 20000
    # A run without a final payout has none.
    plain = tmp_path / "plain.h5"
    run_bankrun("run", SOURCE_DIR / "scenarios/theory/granovetter-100.yaml", "-o", plain,
                "--quiet")
    assert bankrun.open(plain).payoffs.empty

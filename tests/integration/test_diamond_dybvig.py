"""Diamond-Dybvig (1983) as a plain scenario: the no-run and the run outcome of the same
bank, and suspension of convertibility preventing the run."""
import h5py
import numpy as np

from conftest import SOURCE_DIR, run_bankrun

SCENARIO = SOURCE_DIR / "scenarios/theory/diamond-dybvig.yaml"
SUNSPOT = "news[0].magnitude=0.15"
SUSPENSION = "institutions[0].halt.withdrawn_fraction_at_least=0.25"


def outcome(tmp_path, *sets):
    out = tmp_path / f"dd{len(sets)}.h5"
    args = ["run", SCENARIO, "-o", out, "--quiet"]
    for s in sets:
        args += ["--set", s]
    run_bankrun(*args)
    with h5py.File(out) as f:
        by_class = f["population/by_class"]
        names = by_class.attrs["class_names"].decode().split(",")
        agents = f["classes"][:]["agents"]
        withdrawn = by_class["withdrawn_agents"][-1]
        bank = f["institutions/bank"]
        return {
            "patient_run": withdrawn[names.index("patient")] / agents[names.index("patient")],
            "impatient": withdrawn[names.index("impatient")] / agents[names.index("impatient")],
            "paid": bank["payments_cents"][:].sum() / bank.attrs["initial_deposits_cents"],
            "unpaid": bank["queue_value"][-1],
            "halt": int(f["summary/bank"].attrs["halt_tick"]),
        }


def test_no_run_equilibrium(tmp_path, bankrun_bin):
    o = outcome(tmp_path)
    assert o["impatient"] == 1.0
    assert o["patient_run"] < 0.02          # the patient wait
    assert o["unpaid"] == 0 and o["halt"] == -1
    assert abs(o["paid"] - 0.25) < 0.01     # only the impatient were paid


def test_sunspot_run_and_sequential_service(tmp_path, bankrun_bin):
    o = outcome(tmp_path, SUNSPOT)
    assert o["patient_run"] > 0.9            # the patient run too
    assert abs(o["paid"] - 0.6) < 1e-6       # first come, first served, until the liquid 60% are gone
    assert o["unpaid"] > 0                   # the later ones are stuck in the queue


def test_suspension_of_convertibility_prevents_the_run(tmp_path, bankrun_bin):
    run = outcome(tmp_path, SUNSPOT)
    o = outcome(tmp_path, SUNSPOT, SUSPENSION)
    assert o["halt"] == 0                    # suspended once the impatient were paid
    assert abs(o["paid"] - 0.25) < 0.01
    assert o["patient_run"] < 0.3 < run["patient_run"]

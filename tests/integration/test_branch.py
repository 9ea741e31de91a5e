"""Branching runs (issue 12 §4): `bankrun run --from CHECKPOINT --set ...`, on the real binary.

A branch starts from a parent's saved state with changed policies, halts or news. Because
every random draw is keyed by (seed, stream, tick, agent), a branch at tick T with a change
that acts only from T on must be the very run that the changed scenario gives from tick 0:
every dataset is compared as bytes with such a run. Its first T ticks are the parent's.
Changes a branch cannot make are refused with the reason (exit 2) and write nothing.
"""
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import SOURCE_DIR, attr_str, run_bankrun, run_file_differences, \
    RUN_SPECIFIC_ATTRS

FTX = SOURCE_DIR / "scenarios/ftx-2022.yaml"
SMALL = ["--set", "population.agents=100000"]
BRANCH_TICK = 136  # 2022-11-06T16:00Z, Binance announces it will sell its FTT
# A branch records its parent; the scenario text is the parent's with the overrides applied.
BRANCH_ATTRS = RUN_SPECIFIC_ATTRS | {"parent_file", "parent_tick", "scenario_yaml",
                                     "scenario_file"}

CHANGES = {
    "halt 24 h earlier": ["--set", "institutions[0].halt.at_tick=142"],
    "lender of last resort at the shock": [
        "--set", "institutions[0].policies=[{kind: lender_of_last_resort, label: LOLR, "
                 "amount_usd: 3.0e9, when: {at_tick: 136}}]"],
    "a milder shock at the branch tick": [
        "--set", "news[1].magnitude=0.2"],  # 'Binance to sell its FTT' (0.3), at tick 136
}


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parent")
    out = folder / "ftx.h5"
    run_bankrun("run", FTX, "-o", out, "--quiet", "--threads", "2", *SMALL,
                "--checkpoint-at", f"20,{BRANCH_TICK}")
    return out


def checkpoint(parent_file, tick=BRANCH_TICK):
    return Path(f"{parent_file}.tick{tick}.ckpt")


@pytest.mark.parametrize("change", list(CHANGES))
def test_branch_is_the_changed_scenario_run_from_tick_0(tmp_path, parent, change):
    child = tmp_path / "child.h5"
    proc = run_bankrun("run", "--from", checkpoint(parent), "-o", child, "--threads", "1",
                       *CHANGES[change])
    assert f"branching from {parent} at tick {BRANCH_TICK}" in proc.stderr
    scratch = tmp_path / "scratch.h5"
    run_bankrun("run", FTX, "-o", scratch, "--quiet", "--threads", "2", *SMALL,
                *CHANGES[change])
    assert run_file_differences(scratch, child, ignore_attrs=BRANCH_ATTRS) == []
    with h5py.File(child, "r") as c, h5py.File(parent, "r") as p:
        assert attr_str(c.attrs["parent_file"]) == str(parent)
        assert int(c.attrs["parent_tick"]) == BRANCH_TICK
        assert attr_str(c.attrs["status"]) == "complete"
        deposits_c = c["institutions/ftx/deposits_cents"][()]
        deposits_p = p["institutions/ftx/deposits_cents"][()]
        # The parent's ticks before the branch, then the change's effect.
        assert np.array_equal(deposits_c[:BRANCH_TICK], deposits_p[:BRANCH_TICK])
        assert not np.array_equal(deposits_c, deposits_p)
        assert int(p.attrs["parent_tick"]) == -1 and attr_str(p.attrs["parent_file"]) == ""


def test_the_counterfactuals_differ_as_they_should(tmp_path, parent):
    """Halting 24 h earlier pays out less; a lender of last resort pays out more."""
    outflow = {}
    for change in ("halt 24 h earlier", "lender of last resort at the shock"):
        child = tmp_path / f"{len(outflow)}.h5"
        run_bankrun("run", "--from", checkpoint(parent), "-o", child, "--quiet",
                    *CHANGES[change])
        with h5py.File(child, "r") as f:
            outflow[change] = int(f["summary/ftx"].attrs["total_outflow_cents"])
            if change.startswith("lender"):
                assert f["institutions/ftx/policies"]["fired_tick"][0] == BRANCH_TICK
            else:
                assert int(f["summary/ftx"].attrs["halt_tick"]) == 142
    with h5py.File(parent, "r") as f:
        base = int(f["summary/ftx"].attrs["total_outflow_cents"])
    assert outflow["halt 24 h earlier"] < base < outflow["lender of last resort at the shock"]


def test_a_branch_with_no_change_is_the_parent(tmp_path, parent):
    child = tmp_path / "same.h5"
    run_bankrun("run", "--from", checkpoint(parent), "-o", child, "--quiet")
    assert run_file_differences(parent, child, ignore_attrs=BRANCH_ATTRS) == []


REFUSED = {
    "population": (["--set", "population.agents=50000"], "population cannot change"),
    "stress": (["--set", "stress.peer_weight=0.1"], "stress cannot change"),
    "balance sheet": (["--set", "institutions[0].hot_reserve_fraction=0.5"],
                      "institutions.ftx (other than halt and policies) cannot change"),
    "halt before the branch": (["--set", "institutions[0].halt.at_tick=100"],
                               "is before the branch at tick 136"),
    "policy before the branch": (
        ["--set", "institutions[0].policies=[{kind: gate, fraction_per_day: 0.1, "
                  "when: {at_tick: 50}}]"], "scheduled at tick 50, before the branch"),
    "news before the branch": (["--set", "news[0].magnitude=0.5"],
                               "news before the branch at tick 136 cannot change"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_changes_a_branch_cannot_make_are_refused(tmp_path, parent, case):
    overrides, reason = REFUSED[case]
    child = tmp_path / "child.h5"
    proc = run_bankrun("run", "--from", checkpoint(parent), "-o", child, *overrides, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "cannot branch" in proc.stderr and reason in proc.stderr, proc.stderr
    assert not child.exists() and not Path(f"{child}.partial").exists()


def test_a_fired_policy_cannot_be_undone(tmp_path):
    parent = tmp_path / "parent.h5"
    lolr = "[{kind: lender_of_last_resort, label: early, amount_usd: 1.0e9, when: {at_tick: 10}}]"
    run_bankrun("run", FTX, "-o", parent, "--quiet", *SMALL, "--set", "time.ticks=60",
                "--set", f"institutions[0].policies={lolr}", "--checkpoint-at", "30")
    proc = run_bankrun("run", "--from", checkpoint(parent, 30), "-o", tmp_path / "c.h5",
                       "--set", "institutions[0].policies=[]", check=False)
    assert proc.returncode == 2
    assert "'early' fired at tick 10, before the branch at tick 30" in proc.stderr


def test_branch_usage_errors(tmp_path, parent):
    ckpt = checkpoint(parent)
    proc = run_bankrun("run", "--from", ckpt, check=False)
    assert proc.returncode == 2 and "give the branch's output file with -o" in proc.stderr
    proc = run_bankrun("run", FTX, "--from", ckpt, "-o", tmp_path / "x.h5", check=False)
    assert proc.returncode == 2 and "not a scenario file" in proc.stderr
    proc = run_bankrun("run", "--from", ckpt, "-o", tmp_path / "x.h5", "--seed", "3", check=False)
    assert proc.returncode == 2 and "seed cannot change" in proc.stderr


def test_a_branch_resumes_as_any_run(tmp_path, parent):
    """A branch's own checkpoint carries its parent: resumed, the child is the same file."""
    child = tmp_path / "child.h5"
    change = CHANGES["halt 24 h earlier"]
    run_bankrun("run", "--from", checkpoint(parent), "-o", child, "--quiet", "--threads", "2",
                "--checkpoint-at", "150", *change)
    whole = tmp_path / "whole.h5"
    child.rename(whole)
    # As a kill after tick 150 would leave it: the child's .partial and its checkpoint.
    Path(f"{child}.partial").write_bytes(whole.read_bytes())
    run_bankrun("resume", checkpoint(child, 150), "--quiet", "--threads", "1")
    assert run_file_differences(whole, child) == []
    with h5py.File(child, "r") as f:
        assert attr_str(f.attrs["parent_file"]) == str(parent)
        assert int(f.attrs["parent_tick"]) == BRANCH_TICK
        assert attr_str(f.attrs["resumed_at_ticks"]) == "150"

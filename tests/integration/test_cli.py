"""The command line: help, version, validation and the exit-code contract
(0 success, 1 runtime failure, 2 usage or scenario error, 130 SIGINT, 143 SIGTERM).
Kills, signals at random moments and a full disk: test_crash.py."""
import os
import re
import signal
import subprocess
import textwrap
import time

import h5py
import pytest

from conftest import BANKRUN, REFERENCE_YAML, SOURCE_DIR, attr_str, run_bankrun


def test_version_and_help(bankrun_bin):
    out = run_bankrun("--version").stdout
    assert re.match(r"bankrun \d+\.\d+\.\d+ \(", out)
    for args in (["--help"], ["run", "--help"], ["validate", "--help"]):
        proc = run_bankrun(*args)
        assert "Usage" in proc.stdout or "usage" in proc.stdout.lower()
    assert "--threads" in run_bankrun("run", "--help").stdout


def test_no_subcommand_is_a_usage_error(bankrun_bin):
    assert run_bankrun(check=False).returncode == 2
    assert run_bankrun("frobnicate", check=False).returncode == 2
    assert run_bankrun("run", check=False).returncode == 2  # missing scenario


def test_validate_shipped_flagship(bankrun_bin):
    out = run_bankrun("validate", SOURCE_DIR / "scenarios/ftx-2022.yaml").stdout
    assert "valid scenario 'ftx-2022'" in out


GOOD = textwrap.dedent("""\
    name: t
    time:
      ticks: 5
    population:
      agents: 100
      classes:
        - name: a
          balance_usd: 10
          threshold: {dist: normal, mean: 0.5, sd: 0.1}
    institutions:
      - name: bank
    """)


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("mutate, expect", [
    # malformed YAML: the parser's line and column
    (lambda s: s.replace("ticks: 5", "ticks: [5"), r"s\.yaml:\d+:\d+"),
    # unknown key, with the nearest valid key suggested
    (lambda s: s.replace("agents: 100", "agentz: 100"), r"s\.yaml:5:3: .*agentz.*did you mean 'agents'"),
    # wrong type
    (lambda s: s.replace("ticks: 5", "ticks: five"), r"s\.yaml:3:10: time\.ticks: .*integer"),
    # out of range
    (lambda s: s.replace("ticks: 5", "ticks: -5"), r"s\.yaml:3:10: time\.ticks: .*"),
    (lambda s: s.replace("sd: 0.1", "sd: -0.1"),
     r"s\.yaml:9:\d+: population\.classes\[0\]\.threshold\.sd: "),
])
def test_bad_scenarios_exit_2_with_position(tmp_path, bankrun_bin, mutate, expect):
    path = write(tmp_path, mutate(GOOD))
    for cmd in (["validate", path], ["run", path, "-o", tmp_path / "x.h5"]):
        proc = run_bankrun(*cmd, check=False)
        assert proc.returncode == 2, proc.stderr
        assert re.search(expect, proc.stderr), proc.stderr
    assert not (tmp_path / "x.h5").exists()


def test_good_scenario_runs(tmp_path, bankrun_bin):
    path = write(tmp_path, GOOD)
    run_bankrun("run", path, "-o", tmp_path / "ok.h5", "--quiet")
    with h5py.File(tmp_path / "ok.h5") as f:
        assert attr_str(f.attrs["status"]) == "complete"


@pytest.mark.parametrize("override, expect", [
    ("population.agentz=5", r"agentz.*did you mean 'agents'"),
    ("time.ticks=abc", r"time\.ticks"),
    ("time.ticks=0", r"time\.ticks"),
    ("no_equals_sign", r"no_equals_sign"),
    ("population.classes[3].share=1", r"classes"),
])
def test_bad_set_overrides_exit_2(tmp_path, bankrun_bin, override, expect):
    path = write(tmp_path, GOOD)
    proc = run_bankrun("run", path, "-o", tmp_path / "x.h5", "--set", override, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "--set" in proc.stderr
    assert re.search(expect, proc.stderr), proc.stderr


def test_set_overrides_reach_the_output(tmp_path, bankrun_bin):
    path = write(tmp_path, GOOD)
    out = tmp_path / "o.h5"
    run_bankrun("run", path, "-o", out, "--quiet", "--set", "time.ticks=7",
                "--set", "population.classes[0].share=2", "--seed", "99")
    with h5py.File(out) as f:
        assert f["time/tick"].shape == (7,)
        assert int(f.attrs["seed"]) == 99
        resolved = attr_str(f.attrs["scenario_yaml"])
        assert "ticks: 7" in resolved and "seed: 99" in resolved


def test_missing_output_directory_is_a_usage_error(tmp_path, bankrun_bin):
    path = write(tmp_path, GOOD)
    proc = run_bankrun("run", path, "-o", tmp_path / "nope/x.h5", check=False)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_summary_on_stdout(tmp_path, bankrun_bin):
    proc = run_bankrun("run", REFERENCE_YAML, "-o", tmp_path / "r.h5",
                       "--set", "population.agents=5000")
    out = proc.stdout
    for needle in ("institution 'bank'", "total outflow", "peak outflow per day",
                   "time to 10% withdrawn", "time to 50% withdrawn", "halt", "tick loop"):
        assert needle in out, out
    assert proc.stderr == ""  # no progress line when stderr is not a terminal


TWO_INSTITUTIONS = textwrap.dedent("""\
    name: two
    time:
      ticks: 48
    population:
      agents: 2000
      classes:
        - name: a
          balance_usd: 100
          threshold: {dist: normal, mean: 0.3, sd: 0.1}
          accounts: {first: 0.5, second: 0.5}
          destinations: {self_custody: 0.5, first: 0.5, second: 0.5}
    stress: {news_weight: 1}
    news:
      - {tick: 2, magnitude: 0.5, institution: first}
    institutions:
      - name: first
        hot_reserve_fraction: 0.2
        illiquid_fraction: 0.85
        halt: {withdrawn_fraction_at_least: 0.1}
      - name: second
        exposures:
          - {to: first, amount_usd: 1000}
    """)


def test_summary_lists_every_institution(tmp_path, bankrun_bin):
    path = write(tmp_path, TWO_INSTITUTIONS)
    out = run_bankrun("run", path, "-o", tmp_path / "two.h5").stdout
    first, second = out.index("institution 'first'"), out.index("institution 'second'")
    assert first < second, out
    assert out.count("total outflow") == 2 and out.count("time to 10% withdrawn") == 2, out
    assert re.search(r"halt +tick \d+", out[first:second]), out
    assert "exposures written down" in out[second:], out
    assert "from other institutions" in out[second:], out
    assert "2 institutions" in run_bankrun("validate", path).stdout


def test_ctrl_c_leaves_a_partial_file_marked_interrupted(tmp_path, bankrun_bin):
    out = tmp_path / "int.h5"
    proc = subprocess.Popen(
        [str(BANKRUN), "run", str(REFERENCE_YAML), "-o", str(out), "--threads", "1",
         "--set", "population.agents=200000", "--set", "time.ticks=100000",
         "--set", "stress.news_weight=0", "--set", "stress.peer_weight=0",
         "--set", "stress.flow_weight=0"],  # nobody withdraws: every tick does full work
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    partial = out.with_name(out.name + ".partial")
    deadline = time.time() + 60
    while not partial.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert not out.exists() and partial.exists()  # only a complete run gets the final name
    assert str(partial) in stderr
    with h5py.File(partial) as f:
        assert attr_str(f.attrs["status"]) == "interrupted"
        n = f["time/tick"].shape[0]
        assert 0 < n < 100000
        assert int(f.attrs["ticks_recorded"]) == n
        assert f["population/withdrawn_agents"].shape == (n,)
        assert int(f["summary"].attrs["ticks_run"]) == n


@pytest.mark.parametrize("args", [["validate", "/dev/zero"], ["run", "/dev/zero", "-o", "x.h5"],
                                  ["sweep", "/dev/zero"], ["calibrate", "/dev/zero"],
                                  ["sweep", "device-base.yaml", "--dry-run"]])
def test_a_device_given_as_an_input_file_is_refused_not_read_forever(tmp_path, args):
    (tmp_path / "device-base.yaml").write_text(
        "base: /dev/zero\nparameters: {stress.flow_weight: [0, 1]}\n")
    proc = subprocess.run([str(BANKRUN.resolve()), *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=20)
    assert proc.returncode == 2, proc.stderr
    assert "'/dev/zero': not a regular file" in proc.stderr or \
        "/dev/zero: cannot open: not a regular file" in proc.stderr, proc.stderr

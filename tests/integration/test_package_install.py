"""The Python package installs non-editable (`pip install ./analysis` into a venv that sees
Debian's packages, as analysis/README.md documents) and works from any directory: the public
figures are package data, and nothing is read from the checkout."""
import os
import shutil
import subprocess
import venv

import pytest

from conftest import REFERENCE_YAML, SOURCE_DIR, run_bankrun


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("install")
    # Build from a copy: setuptools writes build/ and *.egg-info/ next to pyproject.toml.
    source = root / "src"
    shutil.copytree(SOURCE_DIR / "analysis", source,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "notebooks"))
    env_dir = root / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin/python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(["/usr/bin/python3", "-m", "pip", "--python", str(python), "install",
                           "--no-build-isolation", "--no-deps", "--no-index", "--quiet",
                           str(source)], capture_output=True, text=True, env=env, timeout=300)
    if "no such option: --python" in proc.stderr:  # pip < 22.3: use the venv's own pip
        venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=True).create(env_dir)
        proc = subprocess.run([str(python), "-m", "pip", "install", "--no-build-isolation",
                               "--no-deps", "--no-index", "--quiet", str(source)],
                              capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.rmtree(source)  # the installed copy must not need the source tree
    return python, env


def test_installed_package_works_from_another_directory(installed, tmp_path):
    python, env = installed
    out = tmp_path / "ref.h5"
    run_bankrun("run", REFERENCE_YAML, "-o", out, "--quiet", "--set", "population.agents=2000")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    code = f"""
import bankrun, pathlib, sys
where = pathlib.Path(bankrun.__file__).resolve()
assert str(where).startswith({str(python.parent.parent)!r}), where    # the installed copy
assert bankrun.repository_root() is None                                # no checkout around
assert bankrun.PUBLIC_FIGURES.is_file() and bankrun.CASES_MD.is_file()
figures = bankrun.load_public_figures()
assert set(figures["case"]) == {{"ftx", "binance"}}, figures
run = bankrun.open({str(out)!r})
assert run.institutions["bank"]["deposits"].iloc[0] > 0
print("ok", bankrun.__version__)
"""
    proc = subprocess.run([str(python), "-c", code], cwd=workdir, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split() == ["ok", "0.1.0"]
    report = subprocess.run([str(python), "-m", "bankrun", "report", str(out), "-o", "rep"],
                            cwd=workdir, capture_output=True, text=True, timeout=300,
                            env=dict(env, MPLBACKEND="Agg"))
    assert report.returncode == 0, report.stdout + report.stderr
    assert (workdir / "rep/index.html").is_file()

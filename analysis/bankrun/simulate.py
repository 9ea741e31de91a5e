"""Running the bankrun binary from Python: :func:`find_binary`, :func:`simulate`."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .run import Run

__all__ = ["find_binary", "repository_root", "simulate", "SimulationError"]


class SimulationError(RuntimeError):
    """``bankrun run`` exited with a non-zero status (its stderr is in the message)."""


def repository_root() -> Path | None:
    """The checkout this package lives in (the folder holding ``analysis/``), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "scenarios").is_dir() else None


def find_binary() -> Path:
    """The bankrun executable: ``$BANKRUN_BIN``, else ``build/output/bankrun`` of this
    checkout, else ``bankrun`` on the PATH."""
    env = os.environ.get("BANKRUN_BIN")
    if env:
        return Path(env)
    root = repository_root()
    if root is not None and (root / "build/output/bankrun").exists():
        return root / "build/output/bankrun"
    found = shutil.which("bankrun")
    if found:
        return Path(found)
    raise FileNotFoundError("bankrun executable not found: build it (scripts/build) or set "
                            "BANKRUN_BIN")


def simulate(scenario: str | Path, output: str | Path, *, seed: int | None = None,
             set: Mapping[str, Any] | None = None, threads: int = 0,  # noqa: A002
             binary: str | Path | None = None, timeout: float = 3600,
             overwrite: bool = True) -> Run:
    """Runs ``bankrun run SCENARIO -o OUTPUT`` (with ``--set key=value`` for each item of
    ``set`` and ``--seed``) and opens the result. Raises :class:`SimulationError` if the
    run fails (or is interrupted: then only ``OUTPUT.partial`` exists).

    ``overwrite=True`` (the default) passes ``--force``: the call names its output, so
    re-running a notebook replaces it. With ``overwrite=False`` an existing ``OUTPUT`` (or
    ``OUTPUT.partial``) is refused, as ``bankrun run`` does without ``--force``."""
    from .sweep import yaml_value

    exe = Path(binary) if binary is not None else find_binary()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "run", str(scenario), "-o", str(output), "--quiet", "--threads",
           str(threads)] + (["--force"] if overwrite else [])
    if seed is not None:
        cmd += ["--seed", str(seed)]
    for key, value in (set or {}).items():
        cmd += ["--set", f"{key}={yaml_value(value)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SimulationError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return Run(output)

"""Running the bankrun binary from Python: :func:`find_binary`, :func:`simulate`,
:func:`branch`."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .run import Run

__all__ = ["find_binary", "repository_root", "simulate", "branch", "checkpoint_path",
           "SimulationError"]


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


def _run_binary(args: list[str], output: str | Path, set: Mapping[str, Any] | None,  # noqa: A002
                threads: int, binary: str | Path | None, timeout: float,
                overwrite: bool) -> Run:
    """``bankrun run ARGS -o OUTPUT --set ...``, then opens OUTPUT."""
    from .sweep import yaml_value

    exe = Path(binary) if binary is not None else find_binary()
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), "run", *args, "-o", str(output), "--quiet", "--threads",
           str(threads)] + (["--force"] if overwrite else [])
    for key, value in (set or {}).items():
        cmd += ["--set", f"{key}={yaml_value(value)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SimulationError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()}")
    return Run(output)


def simulate(scenario: str | Path, output: str | Path, *, seed: int | None = None,
             set: Mapping[str, Any] | None = None, threads: int = 0,  # noqa: A002
             binary: str | Path | None = None, timeout: float = 3600,
             overwrite: bool = True, checkpoint_at: Sequence[int] = ()) -> Run:
    """Runs ``bankrun run SCENARIO -o OUTPUT`` (with ``--set key=value`` for each item of
    ``set`` and ``--seed``) and opens the result. Raises :class:`SimulationError` if the
    run fails (or is interrupted: then only ``OUTPUT.partial`` exists).

    ``overwrite=True`` (the default) passes ``--force``: the call names its output, so
    re-running a notebook replaces it. With ``overwrite=False`` an existing ``OUTPUT`` (or
    ``OUTPUT.partial``) is refused, as ``bankrun run`` does without ``--force``.

    ``checkpoint_at``: ticks after which the run's state is kept in
    ``OUTPUT.tick<T>.ckpt`` (``--checkpoint-at``), to :func:`branch` from
    (:func:`checkpoint_path` gives the name)."""
    args = [str(scenario)] + (["--seed", str(seed)] if seed is not None else [])
    if checkpoint_at:
        args += ["--checkpoint-at", ",".join(str(int(t)) for t in checkpoint_at)]
    return _run_binary(args, output, set, threads, binary, timeout, overwrite)


def checkpoint_path(output: str | Path, tick: int) -> Path:
    """The checkpoint ``simulate(..., checkpoint_at=[tick])`` keeps beside ``output``."""
    return Path(f"{output}.tick{int(tick)}.ckpt")


def branch(checkpoint: str | Path, output: str | Path, *,
           set: Mapping[str, Any] | None = None, threads: int = 0,  # noqa: A002
           binary: str | Path | None = None, timeout: float = 3600,
           overwrite: bool = True) -> Run:
    """A counterfactual: ``bankrun run --from CHECKPOINT -o OUTPUT --set ...``. The new run
    starts from the parent's state at the checkpoint's tick (its first ticks are the
    parent's) with the changes in ``set``, which may only touch institutions' ``halt`` and
    ``policies`` and news from that tick on; after it, the random numbers are the parent's,
    so the difference between the runs is the change's alone. Raises
    :class:`SimulationError` for a change a branch cannot make (the message says why)."""
    return _run_binary(["--from", str(checkpoint)], output, set, threads, binary, timeout,
                       overwrite)

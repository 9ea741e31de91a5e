"""Exceptions and warnings raised when a file cannot be read as bankrun output."""
from __future__ import annotations


class BankrunError(Exception):
    """Base class of the package's errors."""


class NotBankrunFileError(BankrunError, ValueError):
    """The file is not HDF5, or is HDF5 but not written by bankrun (nor a sweep index)."""


class FormatVersionError(BankrunError, ValueError):
    """The file's ``format_version`` is one this package cannot read (newer, or too old)."""


class RunStatusWarning(UserWarning):
    """The run did not finish normally: its file says ``failed`` or ``running``."""


class InterruptedRunWarning(RunStatusWarning):
    """The run was stopped with Ctrl-C: its datasets cover only the ticks that ran."""

"""Low-level helpers to read bankrun's HDF5: strings, attributes, compound tables."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

from .errors import NotBankrunFileError


def text(value: Any) -> str:
    """A string attribute or field (bankrun writes fixed-length UTF-8: h5py gives bytes)."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8")
    return str(value)


def plain(value: Any) -> Any:
    """An attribute value as a plain Python object (str, int, float, list)."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.dtype.kind == "S" else value.tolist()
    return value


def attributes(obj: h5py.HLObject) -> dict[str, Any]:
    """Every attribute of a group or dataset, decoded, as a dict."""
    return {k: plain(v) for k, v in obj.attrs.items()}


def names(value: Any) -> list[str]:
    """A comma-separated list attribute ("a,b,c") as a list; "" gives []."""
    s = text(value)
    return s.split(",") if s else []


def table(dataset: h5py.Dataset) -> pd.DataFrame:
    """A compound dataset as a DataFrame, its string fields decoded to str."""
    data = dataset[()]
    frame = pd.DataFrame(data) if data.size else pd.DataFrame(
        {k: np.array([], dtype=data.dtype.fields[k][0]) for k in data.dtype.names})
    for field in data.dtype.names:
        if data.dtype.fields[field][0].kind == "S":
            frame[field] = [v.decode("utf-8") for v in data[field]] if data.size else \
                pd.Series([], dtype=object)
    return frame


def open_file(path: str | Path) -> h5py.File:
    """Opens an HDF5 file read-only; a file that is not HDF5 gives NotBankrunFileError."""
    path = Path(path)
    if not path.exists():
        partial = path.with_name(path.name + ".partial")
        if partial.exists():
            raise FileNotFoundError(
                f"{path}: no such file, but {partial.name} is there: the run did not complete "
                f"(interrupted, failed or killed); open {partial} to read the ticks it holds")
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise NotBankrunFileError(
            f"{path}: not an HDF5 file, so not bankrun output ({err})") from err

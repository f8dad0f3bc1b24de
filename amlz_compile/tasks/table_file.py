"""A user's table from a file: numeric feature columns and one target column.

`.csv`: an optional header row (detected when a cell of the first row is not a number), the
target chosen by header name or column index (negative counts from the end; default the last
column); targets stay text when any is not a number (class labels). `.npz`: arrays `x` (or `X`)
and `y` (or `Y`), or one 2-D array whose target column is chosen as for a CSV. Files are read
as data only (`allow_pickle=False`); every problem is a DataError naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import csv_rows, is_number
from .tabular import DataError

TABLE_SUFFIXES = (".csv", ".npz")


@dataclass(frozen=True)
class Table:
    """Features `x` (rows, columns), targets `y`, and the column names (generated if absent)."""

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_name: str


def _target_index(target: str | int | None, names: list[str], where: str) -> int:
    width = len(names)
    if target is None or target == "":
        return width - 1
    if isinstance(target, str) and target in names:
        return names.index(target)
    try:
        k = int(target)
    except (TypeError, ValueError):
        raise DataError(
            f"{where}: no column named {target!r} (columns: {', '.join(names)})"
        ) from None
    if not -width <= k < width:
        raise DataError(f"{where}: column index {k} is out of range for {width} columns")
    return k % width


def _split(names: list[str], target: str | int | None, where: str) -> tuple[int, list[int]]:
    """(target column, feature columns)."""
    k = _target_index(target, names, where)
    if len(names) < 2:
        raise DataError(f"{where}: need at least one feature column besides the target")
    return k, [i for i in range(len(names)) if i != k]


def load_csv_table(path: Path, target: str | int | None = None) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    rows = csv_rows(text)
    if not rows:
        raise DataError(f"{path} has no rows")
    header = not all(is_number(c) for c in rows[0][1])
    width = len(rows[0][1])
    names = [c.strip() for c in rows[0][1]] if header else [f"x{i}" for i in range(width)]
    if header:
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path} has a header but no data rows")
    k, feature_cols = _split(names, target, str(path))
    x = np.empty((len(rows), len(feature_cols)), dtype=np.float64)
    labels = []
    for r, (line, row) in enumerate(rows):
        if len(row) != width:
            raise DataError(f"{path} line {line}: {len(row)} columns, expected {width}")
        for c, col in enumerate(feature_cols):
            try:
                x[r, c] = float(row[col])
            except ValueError:
                raise DataError(
                    f"{path} line {line}: column {names[col]!r} is not a number: {row[col]!r}"
                ) from None
        labels.append(row[k].strip())
    if all(is_number(v) for v in labels):
        y = np.array([float(v) for v in labels])
    else:
        y = np.array(labels)
    return Table(x, y, tuple(names[c] for c in feature_cols), names[k])


def load_npz_table(path: Path, target: str | int | None = None) -> Table:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise DataError(f"cannot read {path}: {exc} (store numeric or string arrays)") from None
    except Exception as exc:  # noqa: BLE001 - zipfile/OS errors of a corrupt file
        raise DataError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    xk = next((k for k in ("x", "X") if k in arrays), None)
    yk = next((k for k in ("y", "Y") if k in arrays), None)
    if xk is not None and yk is not None:
        if target not in (None, ""):
            raise DataError(f"{path} holds x and y separately; a target column does not apply")
        x = np.asarray(arrays[xk])
        x = x.reshape(x.shape[0], -1) if x.ndim > 2 else x
        if x.ndim != 2 or x.dtype.kind not in "iufb":
            raise DataError(f"{path}: x must be a numeric 2-D array, got {x.dtype} {x.shape}")
        names = [f"x{i}" for i in range(x.shape[1])]
        return Table(x.astype(np.float64), np.asarray(arrays[yk]).reshape(-1), tuple(names), "y")
    tables = [k for k, v in arrays.items() if v.ndim == 2]
    if len(tables) != 1:
        raise DataError(
            f"{path} needs arrays 'x' and 'y', or exactly one 2-D table; found {sorted(arrays)}"
        )
    table = arrays[tables[0]]
    if table.dtype.kind not in "iufb":
        raise DataError(f"{path}: the table must be numeric, got {table.dtype}")
    names = [f"x{i}" for i in range(table.shape[1])]
    k, feature_cols = _split(names, target, str(path))
    return Table(
        table[:, feature_cols].astype(np.float64),
        table[:, k],
        tuple(names[c] for c in feature_cols),
        names[k],
    )


def load_table(path: str | Path, target: str | int | None = None) -> Table:
    """The table in a .csv or .npz file with `target` as the label column."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return load_csv_table(path, target)
    if suffix == ".npz":
        return load_npz_table(path, target)
    raise DataError(f"data files are {' or '.join(TABLE_SUFFIXES)}, got {path.name}")

"""Labelled datasets for projected binary tasks: digits, CIFAR-10, MNIST, .npz and .csv files.

Every loader returns a `LabelledData`: features flattened to (N, D) in the order the reference's
`generate_datasets.py` sees them (raw pixel values, no /255; CIFAR images in height-width-channel
order like TFDS), labels as integers (or strings for files with text labels), in file order.
Nothing is downloaded. Unreadable or malformed files raise TaskError naming the file.
Loaded datasets are memoised in-process (keyed by the files' size and mtime).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import math
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ResourceLimitError
from ..limits import BYTES_PER_VALUE, check_allocation
from .base import TaskError

CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_FILES = ("test_batch",)
CIFAR_SUBDIR = "cifar-10-batches-py"
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_MEMO_SIZE = 2
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True, eq=False)
class LabelledData:
    """Examples `x` (N, D) with labels `y` (N,), and the sorted distinct labels `classes`."""

    name: str
    source: str
    x: np.ndarray
    y: np.ndarray
    classes: tuple

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    def class_counts(self) -> dict:
        return {c: int(np.count_nonzero(self.y == c)) for c in self.classes}


_memo: OrderedDict[tuple, LabelledData] = OrderedDict()


def load_labelled(dataset: str, path: str | None = None, split: str = "train") -> LabelledData:
    """Load a data source by name ('digits', 'cifar10', 'mnist', 'npz', 'csv')."""
    key = (dataset, path, split, source_fingerprint(dataset, path, split))
    hit = _memo.get(key)
    if hit is not None:
        _memo.move_to_end(key)
        return hit
    loader = _LOADERS.get(dataset)
    if loader is None:
        raise TaskError(f"unknown dataset {dataset!r}; known: {', '.join(_LOADERS)}")
    data = loader(path, split)
    _memo[key] = data
    while len(_memo) > _MEMO_SIZE:
        _memo.popitem(last=False)
    return data


def source_files(dataset: str, path: str | None, split: str = "train") -> list[Path]:
    """The files a data source reads (raises TaskError when they are missing)."""
    if dataset == "digits":
        return [digits_file()]
    if path is None:
        raise TaskError(f"dataset {dataset!r} needs a path")
    p = Path(path).expanduser()
    if dataset == "cifar10":
        return _cifar_files(p, split)
    if dataset == "mnist":
        return list(_mnist_files(p, split))
    if not p.is_file():
        raise TaskError(f"{dataset} dataset file not found: {p}")
    return [p]


def source_fingerprint(dataset: str, path: str | None, split: str = "train") -> str:
    """A cheap identity of a data source for cache keys: file paths, sizes and mtimes."""
    parts = []
    for f in source_files(dataset, path, split):
        st = f.stat()
        parts.append(f"{f.resolve()}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


# -- labels ----------------------------------------------------------------------------------


def normalise_labels(y: np.ndarray, where: str) -> np.ndarray:
    """Labels as int64 (integer-valued numbers) or str; anything else is a TaskError."""
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise TaskError(f"{where}: labels must be one-dimensional, got shape {y.shape}")
    kind = y.dtype.kind
    if kind == "f" and (not np.all(np.isfinite(y)) or not np.all(y == np.round(y))):
        raise TaskError(f"{where}: labels must be integers or strings, found non-integer numbers")
    if kind in "iuf" and y.size:
        lo, hi = y.min(), y.max()
        if kind == "u":
            out = hi > _INT64_MAX
        else:  # compared as floats where 2**63 is exact
            out = float(lo) < -(2.0**63) or float(hi) >= 2.0**63
        if out:
            raise TaskError(
                f"{where}: labels must fit in a 64-bit signed integer, found {hi if hi > 0 else lo}"
                " (number the classes 0..K-1, or use strings)"
            )
    if kind in "iubf":
        return y.astype(np.int64)
    if kind in "US":
        return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in y.tolist()])
    raise TaskError(f"{where}: labels must be integers or strings, got dtype {y.dtype}")


def _make(name: str, source: str, x: np.ndarray, y: np.ndarray) -> LabelledData:
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if x.dtype.kind not in "iufb":
        raise TaskError(f"{source}: features must be numeric, got dtype {x.dtype}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise TaskError(f"{source}: no examples or no features (shape {x.shape})")
    if x.shape[0] != y.shape[0]:
        raise TaskError(f"{source}: {x.shape[0]} feature rows but {y.shape[0]} labels")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise TaskError(f"{source}: features contain NaN or infinity")
    x.flags.writeable = False
    classes = tuple(sorted(v.item() if hasattr(v, "item") else v for v in np.unique(y)))
    return LabelledData(name, source, x, y, classes)


# -- digits ----------------------------------------------------------------------------------


def digits_file() -> Path:
    """scikit-learn's bundled `digits.csv.gz` (found without importing sklearn, which is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:
        raise TaskError(
            "dataset 'digits' needs scikit-learn: pip install scikit-learn "
            "(or amlz-compile[datasets])"
        )
    file = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if not file.is_file():
        raise TaskError(f"dataset 'digits': scikit-learn is installed but {file} is missing")
    return file


def load_digits_data(path: str | None = None, split: str = "train") -> LabelledData:
    """scikit-learn's bundled 8x8 digits (no download); `split` is ignored (one split).

    Reads the same file `sklearn.datasets.load_digits` reads: 64 pixel columns, then the label.
    """
    file = digits_file()
    try:
        table = np.loadtxt(file, delimiter=",", ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise TaskError(f"dataset 'digits': cannot read {file}: {exc}") from None
    if table.shape[1] != 65:
        raise TaskError(f"dataset 'digits': {file} has {table.shape[1]} columns, expected 65")
    return _make("digits", str(file), table[:, :-1], normalise_labels(table[:, -1], str(file)))


# -- CIFAR-10 python batches -----------------------------------------------------------------

_PICKLE_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings and numpy arrays only: never runs arbitrary code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _PICKLE_ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy"):
            import numpy._core.multiarray as multiarray

            return getattr(np, name) if module == "numpy" else getattr(multiarray, name)
        return super().find_class(module, name)


def _cifar_files(p: Path, split: str) -> list[Path]:
    if not p.is_dir():
        raise TaskError(f"cifar10: path must be a directory with the python batches, got {p}")
    if (p / CIFAR_SUBDIR).is_dir() and not (p / "data_batch_1").exists():
        p = p / CIFAR_SUBDIR
    names = CIFAR_TRAIN_FILES if split == "train" else CIFAR_TEST_FILES
    missing = [n for n in names if not (p / n).is_file()]
    if missing:
        raise TaskError(f"cifar10: missing {', '.join(missing)} in {p}")
    return [p / n for n in names]


def read_cifar_batch(file: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch: (uint8[N, 3072] in HWC order, int64[N] labels)."""
    try:
        with open(file, "rb") as fh:
            batch = _SafeUnpickler(fh, encoding="bytes").load()
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        struct.error,
    ) as exc:
        raise TaskError(f"cifar10: cannot read {file}: {exc}") from None
    if not isinstance(batch, dict):
        raise TaskError(f"cifar10: {file} is not a CIFAR-10 batch (not a dict)")
    get = {(k.decode() if isinstance(k, bytes) else k): v for k, v in batch.items()}
    if "data" not in get or "labels" not in get:
        raise TaskError(f"cifar10: {file} lacks the 'data' or 'labels' entry")
    data = np.asarray(get["data"])
    labels = np.asarray(get["labels"])
    if data.ndim != 2 or data.shape[1] != 3072 or data.dtype != np.uint8:
        raise TaskError(
            f"cifar10: {file}: data must be uint8 [N, 3072], got {data.dtype} {data.shape}"
        )
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise TaskError(f"cifar10: {file}: need {data.shape[0]} integer labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise TaskError(f"cifar10: {file}: labels must be in 0..9")
    # The batches store each image channel-major (1024 R, 1024 G, 1024 B); TFDS (used by the
    # reference script) flattens height x width x channel.
    hwc = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072)
    return hwc, labels.astype(np.int64)


def load_cifar10(path: str | None, split: str = "train") -> LabelledData:
    files = source_files("cifar10", path, split)
    xs, ys = zip(*(read_cifar_batch(f) for f in files), strict=True)
    return _make("cifar10", str(files[0].parent), np.concatenate(xs), np.concatenate(ys))


# -- MNIST idx -------------------------------------------------------------------------------


def _mnist_files(p: Path, split: str) -> tuple[Path, Path]:
    if not p.is_dir():
        raise TaskError(f"mnist: path must be a directory with the idx files, got {p}")
    found = []
    for stem in MNIST_FILES[split]:
        candidates = [stem, stem.replace("-idx", ".idx")]
        hits = [p / (c + gz) for c in candidates for gz in ("", ".gz") if (p / (c + gz)).is_file()]
        if not hits:
            raise TaskError(f"mnist: missing {stem}[.gz] in {p}")
        found.append(hits[0])
    return found[0], found[1]


def read_idx(file: Path) -> np.ndarray:
    """An idx file (optionally gzipped) of unsigned bytes, as a uint8 array of its shape.

    The header's size is checked against the memory cap (with the float64 copy the tasks make)
    before the body is read, so a small gzipped file cannot expand without limit."""
    try:
        opener = gzip.open if file.suffix == ".gz" else open
        with opener(file, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0:
                raise TaskError(f"mnist: {file} is not an idx file (bad magic number)")
            if head[2] != 0x08:
                raise TaskError(f"mnist: {file}: only unsigned-byte idx data is supported")
            ndim = head[3]
            dims = fh.read(4 * ndim)
            if ndim < 1 or len(dims) < 4 * ndim:
                raise TaskError(f"mnist: {file}: truncated header")
            shape = struct.unpack(f">{ndim}I", dims)
            count = math.prod(shape)
            check_allocation(count * (1 + BYTES_PER_VALUE), f"mnist: {file} ({count:,} values)")
            body = fh.read(count + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise TaskError(f"mnist: cannot read {file}: {exc}") from None
    if len(body) != count:
        size = f"{len(body)}" if len(body) <= count else "more"
        raise TaskError(f"mnist: {file}: header promises {count} bytes of data, file has {size}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def load_mnist(path: str | None, split: str = "train") -> LabelledData:
    images_file, labels_file = source_files("mnist", path, split)
    images = read_idx(images_file)
    labels = read_idx(labels_file)
    if images.ndim < 2:
        raise TaskError(f"mnist: {images_file}: images must have at least 2 dimensions")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise TaskError(
            f"mnist: {labels_file} has {labels.shape} labels for {images.shape[0]} images"
        )
    return _make(
        "mnist",
        str(images_file.parent),
        images.reshape(images.shape[0], -1),
        labels.astype(np.int64),
    )


# -- user files ------------------------------------------------------------------------------


def load_npz(path: str | None, split: str = "train") -> LabelledData:
    """A .npz with features 'x' or 'X' and labels 'y' or 'Y'."""
    (file,) = source_files("npz", path, split)
    if not zipfile.is_zipfile(file):
        raise TaskError(f"npz: {file} is not a .npz archive (not a zip file)")
    try:
        with np.load(file, allow_pickle=False) as z:
            keys = set(z.files)
            xk = next((k for k in ("x", "X") if k in keys), None)
            yk = next((k for k in ("y", "Y") if k in keys), None)
            if xk is None or yk is None:
                raise TaskError(
                    f"npz: {file} needs arrays 'x' (or 'X') and 'y' (or 'Y'); found {sorted(keys)}"
                )
            x_bytes, x_count = _npz_member_size(z, xk, file)
            y_bytes, _ = _npz_member_size(z, yk, file)
            check_allocation(
                x_bytes + y_bytes + BYTES_PER_VALUE * x_count, f"npz: {file} ({x_count:,} values)"
            )
            x, y = z[xk], z[yk]
    except (TaskError, ResourceLimitError):
        raise
    except ValueError as exc:
        raise TaskError(
            f"npz: cannot read {file}: {exc} (store numeric or string arrays, not Python objects)"
        ) from None
    except Exception as exc:  # noqa: BLE001 - zipfile/OS errors of a corrupt file
        raise TaskError(f"npz: cannot read {file}: {type(exc).__name__}: {exc}") from None
    return _make("npz", str(file), x, normalise_labels(y, f"npz: {file}"))


def _npz_member_size(z, key: str, file: Path) -> tuple[int, int]:
    """(bytes, values) of array `key` of an open .npz, from its .npy header alone (a compressed
    member is not decompressed to learn its size)."""
    name = f"{key}.npy" if f"{key}.npy" in z.zip.namelist() else key
    with z.zip.open(name) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise TaskError(f"npz: {file}: array {key!r} has .npy format {version}")
    count = math.prod(shape)
    return count * dtype.itemsize, count


def is_number(s: str) -> bool:
    """Whether a CSV cell reads as a number."""
    try:
        float(s)
    except ValueError:
        return False
    return True


def csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of CSV text with their 1-based line numbers."""
    rows = csv.reader(io.StringIO(text))
    return [(i + 1, r) for i, r in enumerate(rows) if any(c.strip() for c in r)]


def load_csv(path: str | None, split: str = "train") -> LabelledData:
    """A .csv: numeric feature columns, label in the last column, optional header row."""
    (file,) = source_files("csv", path, split)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskError(f"csv: cannot read {file}: {exc}") from None
    rows = csv_rows(text)
    if rows and not all(is_number(c) for c in rows[0][1][:-1]):
        rows = rows[1:]  # header
    if not rows:
        raise TaskError(f"csv: {file} has no data rows")
    width = len(rows[0][1])
    if width < 2:
        raise TaskError(f"csv: {file}: need at least one feature column and a label column")
    feats = np.empty((len(rows), width - 1), dtype=np.float64)
    labels = []
    for k, (line, row) in enumerate(rows):
        if len(row) != width:
            raise TaskError(f"csv: {file} line {line}: {len(row)} columns, expected {width}")
        try:
            feats[k] = [float(c) for c in row[:-1]]
        except ValueError:
            raise TaskError(f"csv: {file} line {line}: non-numeric feature value") from None
        labels.append(row[-1].strip())
    if all(is_number(v) for v in labels):
        y = normalise_labels(np.array([float(v) for v in labels]), f"csv: {file}")
    else:
        y = np.array(labels)
    return _make("csv", str(file), feats, y)


_LOADERS = {
    "digits": load_digits_data,
    "cifar10": load_cifar10,
    "mnist": load_mnist,
    "npz": load_npz,
    "csv": load_csv,
}

"""MNIST loading: the vendored copy (checksummed), a user's IDX directory, or a keras ``mnist.npz``.

Nothing here downloads anything. The four original MNIST files ship inside the package
(``workbench/data/mnist``) and their SHA-256 checksums are verified on every first load.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np

MNIST_DIR = Path(__file__).parent / "data" / "mnist"
SPLITS = ("train", "test")
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MAX_IDX_BYTES = 2**31  # 2 GiB: 40 times the MNIST training images
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataError(ValueError):
    """A data file is missing, corrupt, or not what it claims to be."""


def sha256_file(path: str | Path) -> str:
    """Return the hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_checksum(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 over the bytes of ``X`` and ``y`` (with their shapes and dtypes).

    Identifies the exact training data a model saw, whatever file it came from.
    """
    digest = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array.

    Parameters
    ----------
    path : str or Path
        An IDX file such as ``train-images-idx3-ubyte`` or ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    ndarray
        Array with the shape and dtype the IDX header declares.

    Examples
    --------
    >>> labels = read_idx(MNIST_DIR / "t10k-labels-idx1-ubyte.gz")
    >>> labels.shape
    (10000,)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            # The header first, then at most the size it declares plus one byte (to tell a file
            # that is too long): a gzip bomb never inflates beyond what an honest file would.
            magic = f.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES:
                raise DataError(f"{path} is not an IDX file (bad magic number {magic.hex()!r})")
            dims = f.read(4 * magic[3])
            if len(dims) < 4 * magic[3]:
                raise DataError(f"{path} is truncated: header declares {magic[3]} dimensions")
            shape = struct.unpack(f">{magic[3]}I", dims)
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if expected > MAX_IDX_BYTES:
                raise DataError(f"{path} declares {shape} values ({expected / 2**30:,.1f} GiB), more than the "
                                f"{MAX_IDX_BYTES / 2**30:.0f} GiB the workbench reads")
            raw = bytearray()
            while len(raw) <= expected and (block := f.read(min(1 << 20, expected + 1 - len(raw)))):
                raw += block
    except (OSError, EOFError, zlib.error) as exc:  # gzip raises BadGzipFile (an OSError) or EOFError
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) != expected:
        more = "more than" if len(raw) > expected else f"{len(raw)} data bytes, not"
        raise DataError(f"{path} holds {more} the {expected} data bytes its header {shape} needs")
    return np.frombuffer(bytes(raw), dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


@lru_cache(maxsize=1)
def _vendored_checksums() -> dict[str, str]:
    sums = {}
    for line in (MNIST_DIR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


@lru_cache(maxsize=4)
def _load_vendored(split: str) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for stem in _FILES[split]:
        path = MNIST_DIR / f"{stem}.gz"
        if not path.exists():
            raise DataError(f"vendored MNIST file {path} is missing; reinstall the package")
        if sha256_file(path) != _vendored_checksums()[path.name]:
            raise DataError(f"vendored MNIST file {path} fails its SHA-256 check; reinstall the package")
        arrays.append(read_idx(path))
    return _checked_pair(*arrays, source=str(MNIST_DIR))


def _checked_pair(X: np.ndarray, y: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    if X.ndim != 3 or X.shape[1:] != (28, 28) or X.dtype != np.uint8:
        raise DataError(f"{source}: images must be uint8 of shape (n, 28, 28), got {X.dtype} {X.shape}")
    if y.ndim != 1 or len(y) != len(X):
        raise DataError(f"{source}: {len(X)} images but labels of shape {y.shape}")
    if y.dtype.kind not in "iuf":
        raise DataError(f"{source}: labels must be integers 0-9, got {y.dtype}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isin(y, np.arange(10))  # NaN, fractions, negatives, 10 and up
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(f"{source}: labels must be digits 0-9; {int(bad.sum())} of {len(y)} are not "
                        f"(the first is {y[first].item()!r}, at index {first})")
    X, y = X.copy(), y.astype(np.int64)
    X.flags.writeable = y.flags.writeable = False  # cached: callers get copies
    return X, y


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, f"{stem}.gz", stem.replace("-idx", ".idx"), f"{stem.replace('-idx', '.idx')}.gz"):
        if (directory / name).exists():
            return directory / name
    raise DataError(f"{directory} has no {stem} or {stem}.gz")


def _load_user(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    if path.is_dir():
        X, y = (read_idx(_find(path, stem)) for stem in _FILES[split])
    elif path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as npz:
                X, y = npz[f"x_{split}"], npz[f"y_{split}"]
        except KeyError as exc:
            raise DataError(
                f"{path} has no array {exc}; a keras mnist.npz holds x_train, y_train, x_test, y_test"
            ) from exc
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read {path}: {exc}") from exc
    else:
        raise DataError(f"{path} is neither a directory of IDX files nor an .npz file")
    return _checked_pair(X, y, source=str(path))


def load_mnist(
    split: str = "train",
    *,
    subset: int | None = None,
    random_state: int = 0,
    path: str | Path | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST digits as ``(X, y)``.

    Parameters
    ----------
    split : {"train", "test"}
        The 60,000 training or the 10,000 test images.
    subset : int, optional
        Return a stratified random subset of this many images (all images if it is larger).
    random_state : int, default=0
        Seed of the subset draw.
    path : str or Path, optional
        Load from a directory holding the four IDX files (``.gz`` or not) or from a
        keras-style ``mnist.npz`` instead of the vendored copy.

    Returns
    -------
    X : ndarray of shape (n, 28, 28), uint8
        White ink (255) on black (0).
    y : ndarray of shape (n,), int64

    Examples
    --------
    >>> X, y = load_mnist("test", subset=1000)
    >>> X.shape, X.dtype, y.dtype
    ((1000, 28, 28), dtype('uint8'), dtype('int64'))
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if path is None:
        X, y = _load_vendored(split)
    else:
        path = Path(path).expanduser()
        if not path.exists():
            raise DataError(f"{path} does not exist")
        X, y = _load_user(path, split)
    if subset is not None:
        if subset < 10:
            raise ValueError(f"subset must be at least 10 (one image per class), got {subset}")
        if subset < len(y):
            from sklearn.model_selection import train_test_split

            idx, _ = train_test_split(
                np.arange(len(y)), train_size=subset, stratify=y, random_state=random_state
            )
            idx.sort()
            return X[idx], y[idx]
    return X.copy(), y.copy()

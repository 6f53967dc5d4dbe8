import gzip
import shutil

import numpy as np
import pytest

import workbench.data as data
from workbench import load_mnist


def test_full_splits_have_mnist_shape():
    X, y = load_mnist("test")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8
    assert y.shape == (10000,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(10))
    X, y = load_mnist("train")
    assert X.shape == (60000, 28, 28) and len(y) == 60000


def test_white_ink_on_black():
    X, _ = load_mnist("test", subset=100)
    assert np.median(X) == 0 and X.max() == 255  # background black, ink white


def test_subset_is_stratified_and_reproducible():
    X, y = load_mnist("train", subset=1000, random_state=3)
    assert len(y) == 1000
    counts = np.bincount(y, minlength=10)
    full = np.bincount(load_mnist("train")[1], minlength=10) / 60000 * 1000
    assert np.abs(counts - full).max() <= 1
    X2, y2 = load_mnist("train", subset=1000, random_state=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)


def test_returned_arrays_are_independent_copies():
    X, _ = load_mnist("test", subset=20)
    X[:] = 0
    assert load_mnist("test", subset=20)[0].any()


def test_bad_split_and_subset():
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="subset must be at least 10"):
        load_mnist("test", subset=3)


def test_user_idx_directory_gz_and_plain(tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(data.MNIST_DIR / f"{name}.gz") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    X, y = load_mnist("test", path=tmp_path)
    X0, y0 = load_mnist("test")
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    with pytest.raises(data.DataError, match="has no train-images-idx3-ubyte"):
        load_mnist("train", path=tmp_path)


def test_keras_style_npz(tmp_path):
    X, y = load_mnist("test", subset=50)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=X, y_train=y.astype(np.uint8), x_test=X[:10], y_test=y[:10])
    Xl, yl = load_mnist("train", path=path)
    assert np.array_equal(Xl, X) and yl.dtype == np.int64
    np.savez(tmp_path / "bad.npz", images=X)
    with pytest.raises(data.DataError, match="x_train"):
        load_mnist("train", path=tmp_path / "bad.npz")


def test_missing_path_and_corrupt_idx(tmp_path):
    with pytest.raises(data.DataError, match="does not exist"):
        load_mnist("test", path=tmp_path / "nope")
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + b"\x00" * 100)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + bytes(10))
    with pytest.raises(data.DataError, match=r"holds 100 data bytes, not the 7840 .* header \(10, 28, 28\) needs"):
        load_mnist("test", path=tmp_path)
    bad.write_bytes(b"GIF89a")
    with pytest.raises(data.DataError, match="not an IDX file"):
        load_mnist("test", path=tmp_path)


def test_vendored_checksum_is_verified(tmp_path, monkeypatch):
    for f in data.MNIST_DIR.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0xFF
    path.write_bytes(bytes(raw))
    monkeypatch.setattr(data, "MNIST_DIR", tmp_path)
    data._load_vendored.cache_clear()
    data._vendored_checksums.cache_clear()
    try:
        with pytest.raises(data.DataError, match="fails its SHA-256 check"):
            load_mnist("test")
    finally:
        data._load_vendored.cache_clear()
        data._vendored_checksums.cache_clear()


def test_dataset_checksum_identifies_data():
    X, y = load_mnist("test", subset=100)
    assert data.dataset_checksum(X, y) == data.dataset_checksum(X.copy(), y.copy())
    y2 = y.copy()
    y2[0] = (y2[0] + 1) % 10
    assert data.dataset_checksum(X, y) != data.dataset_checksum(X, y2)

import pickle

import cv2
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from workbench import load_mnist
from workbench.transforms import (
    Deskew,
    Hog,
    ImageInput,
    MnistNormalize,
    center_of_mass,
    check_images,
    normalize_digit,
)

TRANSFORMERS = [ImageInput(), MnistNormalize(), Deskew(), Hog()]


@pytest.fixture(scope="module")
def digits():
    X, y = load_mnist("test", subset=300, random_state=1)
    return X, y


def skew_of(images):
    """Shear dx/dy of the ink's principal axis, per image."""
    images = images.reshape(-1, 28, 28).astype(np.float64)
    com = center_of_mass(images)
    r = np.arange(28)
    out = []
    for im, (cy, cx) in zip(images, com, strict=True):
        dy, dx = r[:, None] - cy, r[None, :] - cx
        out.append((im * dx * dy).sum() / (im * dy**2).sum())
    return np.array(out)


# -- input adapter ----------------------------------------------------------------------------

def test_input_forms_agree(digits):
    X, _ = digits
    expected = ImageInput().transform(X)
    assert expected.shape == (300, 784) and expected.dtype == np.float32
    assert expected.min() == 0 and expected.max() == 1
    for form in (X.reshape(300, 784), X[..., None], X / 255.0, (X / 255.0).astype(np.float32), X.astype(np.int64)):
        np.testing.assert_allclose(ImageInput().transform(form), expected, atol=1e-6)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((5, 27, 27)), r"must have shape \(n, 28, 28\)"),
        (np.zeros((28, 28)), r"pass X\[None\]"),
        (np.zeros((5, 783)), r"must have shape"),
        (np.zeros((5, 28, 28, 3)), r"must have shape"),
        (np.zeros((0, 784)), r"0 sample\(s\)"),
        (np.full((2, 784), 255.0), r"must be in \[0, 1\].*pass uint8, or divide by 255"),
        (np.full((2, 784), -0.5), r"must be in \[0, 1\]"),
        (np.full((2, 784), np.nan), r"NaN or infinity"),
        (np.full((2, 784), np.inf), r"NaN or infinity"),
        (np.full((2, 784), 300, dtype=np.int32), r"must be in 0\.\.255"),
        (np.zeros((2, 784), dtype=bool), r"dtype bool"),
        (np.array([["a"] * 784]), r"dtype <U1"),
        (np.zeros((2, 784), dtype=complex), r"dtype complex128"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(bad, message):
    for transformer in TRANSFORMERS:
        with pytest.raises(ValueError, match=message):
            transformer.fit_transform(bad)


def test_sparse_input_is_rejected():
    from scipy.sparse import csr_matrix

    with pytest.raises(ValueError, match="sparse"):
        check_images(csr_matrix(np.zeros((2, 784))))


# -- MNIST normaliser -------------------------------------------------------------------------

def test_normalize_is_near_identity_on_mnist(digits):
    X, _ = digits
    original = ImageInput().transform(X)
    normalised = MnistNormalize().transform(X)
    # per-pixel error well below 1% of the ink: MNIST was made this way
    assert np.abs(normalised - original).mean() < 0.01 * original.mean()


@pytest.fixture(scope="module")
def knn():
    """A pixel-space nearest-neighbour classifier: it is only right on digits in MNIST format."""
    X, y = load_mnist("train", subset=3000)
    return make_pipeline(ImageInput(), KNeighborsClassifier(3)).fit(X, y)


def test_shifted_shrunken_digit_comes_back(digits, knn):
    X, y = digits
    original = ImageInput().transform(X).reshape(-1, 28, 28)
    moved = np.zeros_like(original)
    for i, im in enumerate(original):
        small = cv2.resize(im, (14, 14), interpolation=cv2.INTER_AREA)
        moved[i, 1:15, 13:27] = small  # half size, in the top-right corner
    restored = MnistNormalize().transform(moved).reshape(-1, 28, 28)
    assert np.abs(restored - original).mean() < 0.5 * np.abs(moved - original).mean()
    np.testing.assert_allclose(center_of_mass(restored).mean(axis=0), (14, 14), atol=0.3)
    acc_original, acc_moved, acc_restored = (knn.score(a, y) for a in (original, moved, restored))
    assert acc_moved < 0.4
    assert acc_restored > acc_original - 0.05


def test_normalize_digit_any_canvas_size(digits, knn):
    X, y = digits
    rng = np.random.default_rng(0)
    out = []
    for im in X[:100].astype(np.float32) / 255:
        canvas = np.zeros((300, 500), np.float32)
        size = int(rng.integers(60, 280))
        top, left = rng.integers(0, 300 - size), rng.integers(0, 500 - size)
        canvas[top : top + size, left : left + size] = cv2.resize(im, (size, size))
        out.append(normalize_digit(canvas))  # large or small, anywhere on a wide canvas
    assert knn.score(np.stack(out), y[:100]) > knn.score(X[:100], y[:100]) - 0.05


def test_the_box_of_a_very_noisy_digit_is_the_clean_digits(digits):
    # Gaussian noise of sigma 0.5: specks beside the digit used to stretch the box, and the
    # middle 99% of the ink to cut faint stroke ends (69% of boxes within 3 pixels; 87% now).
    from workbench.corruptions import corrupt
    from workbench.transforms import _denoised, _plain_box, ink_box

    X, _ = digits
    noisy = corrupt(X, "noise", 0.5, random_state=0).astype(np.float32) / 255
    errors = [np.abs(np.subtract(_plain_box(clean, 0.1), ink_box(_denoised(dirty)))).max()
              for clean, dirty in zip(X.astype(np.float32) / 255, noisy, strict=True)]
    assert np.mean(np.array(errors) <= 3) > 0.8


def test_a_noisy_digit_is_moved_whole_with_its_noise(digits):
    # As the CNN met noisy digits in training: noise on the whole 28x28 around the digit, not a
    # digit cut out onto a clean background. A clean digit's margin stays empty.
    from workbench.corruptions import corrupt
    from workbench.transforms import _margin

    X, _ = digits
    ring = _margin((28, 28))
    noisy = MnistNormalize().transform(corrupt(X, "noise", 0.5, random_state=0)).reshape(-1, 28, 28)
    clean = MnistNormalize().transform(X).reshape(-1, 28, 28)
    assert noisy[:, ring].mean() > 0.03 and clean[:, ring].mean() < 0.005


def test_the_shipped_cnn_reads_very_noisy_digits(digits):
    # Noise of sigma 0.5 (the robustness report's strongest): 91.2% with the box of the ink's
    # middle 99% cut out onto a clean background, 93.8% now.
    from workbench.corruptions import corrupt
    from workbench.store import load_model

    X, y = load_mnist("test", subset=500, random_state=1)
    model = load_model("cnn")
    assert model.score(corrupt(X, "noise", 0.5, random_state=1), y) >= 0.93


def test_blank_images_stay_blank():
    out = MnistNormalize().transform(np.zeros((3, 28, 28), np.uint8))
    assert out.shape == (3, 784) and not out.any()
    assert not Deskew().transform(np.zeros((1, 784))).any()


# -- deskew -----------------------------------------------------------------------------------

def test_deskew_removes_slant(digits):
    X, _ = digits
    straight = Deskew().transform(X)
    assert np.abs(skew_of(straight)).mean() < 0.3 * np.abs(skew_of(X)).mean()


def test_deskew_undoes_a_shear(digits):
    X, _ = digits
    images = ImageInput().transform(X).reshape(-1, 28, 28)
    shear = np.float32([[1, 0.4, -0.4 * 14], [0, 1, 0]])
    sheared = np.stack([cv2.warpAffine(im, shear, (28, 28)) for im in images])
    a, b = Deskew().transform(images), Deskew().transform(sheared)
    before = np.abs(images - sheared).mean()
    assert np.abs(a - b).mean() < 0.5 * before


# -- HOG --------------------------------------------------------------------------------------

def test_hog_shape_and_it_helps_nearest_neighbour():
    X, y = load_mnist("train", subset=1000)
    Xt, yt = load_mnist("test", subset=500)
    assert Hog().transform(X[:2]).shape == (2, 1296)
    assert Hog(pixels_per_cell=7).transform(X[:2]).shape == (2, 324)
    pixels = make_pipeline(ImageInput(), KNeighborsClassifier(1)).fit(X, y).score(Xt, yt)
    hog = make_pipeline(Hog(), KNeighborsClassifier(1)).fit(X, y).score(Xt, yt)
    assert hog > pixels + 0.02


# -- estimator contract on images (what sklearn's tabular checks cannot reach) ----------------

@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=lambda t: type(t).__name__)
def test_contract_on_images(transformer, digits):
    X, _ = digits
    X = X[:40]
    out = transformer.fit_transform(X)
    assert out.ndim == 2 and len(out) == 40 and out.dtype == np.float32
    assert np.array_equal(transformer.transform(X), out)  # idempotent
    order = np.random.default_rng(0).permutation(40)
    np.testing.assert_array_equal(transformer.transform(X[order]), out[order])
    np.testing.assert_array_equal(transformer.transform(X[:7]), out[:7])  # subset invariance
    restored = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(restored.transform(X), out)
    assert transformer.transform(X[:1]).shape == (1, out.shape[1])  # usable without fit

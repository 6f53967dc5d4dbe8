"""The CNN estimator's contract on small data (the accuracy target is checked by the shipped
model and the benchmarks, not here)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

import workbench
from workbench.cnn import CNNClassifier
from workbench.transforms import check_images

SMALL = dict(filters1=8, filters2=8, filters3=16, epochs=3, batch_size=32, learning_rate=3e-3, random_state=0)


@pytest.fixture(scope="module")
def data():
    return workbench.load_mnist("train", subset=600)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return CNNClassifier(**SMALL).fit(X, y)


def test_build_cnn_is_pure_and_seeded():
    from workbench.cnn_layers import build_cnn

    a = build_cnn(7, filters1=4, filters2=4, filters3=8, seed=3)
    b = build_cnn(7, filters1=4, filters2=4, filters3=8, seed=3)
    assert a.output_shape == (None, 7) and not a.compiled
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_max_pool_matches_keras():
    from workbench.backend import keras
    from workbench.cnn_layers import MaxPool2x2

    x = np.random.default_rng(0).random((2, 14, 14, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(MaxPool2x2()(x)), np.asarray(keras.layers.MaxPooling2D()(x)))


def test_random_affine_identity_and_mass(data):
    from workbench.backend import jax
    from workbench.cnn_layers import random_affine

    X = (data[0][:64] / 255.0).astype(np.float32)[..., None]
    key = jax.random.PRNGKey(0)
    same = np.asarray(random_affine(key, X, rotation=0.0, shift=0.0, scale=0.0))
    np.testing.assert_allclose(same, X, atol=1e-5)
    moved = np.asarray(random_affine(key, X, rotation=15.0, shift=2.0, scale=0.1))
    assert moved.shape == X.shape and moved.min() >= 0 and moved.max() <= 1 + 1e-6
    assert not np.allclose(moved, X)
    # a small rotation, shift and zoom keeps the digit: ink mass within the zoom's area change
    ratio = moved.sum(axis=(1, 2, 3)) / X.sum(axis=(1, 2, 3))
    assert np.all((ratio > 0.75) & (ratio < 1.3))


def test_elastic_distortion_bends_strokes_locally(data):
    from scipy.ndimage import gaussian_filter

    from workbench.backend import jax
    from workbench.cnn_layers import _smoothing_matrix, random_affine

    a = np.random.default_rng(0).uniform(-1, 1, (28, 28))
    g = _smoothing_matrix(28, 4.0)
    np.testing.assert_allclose(g @ a @ g.T, gaussian_filter(a, 4.0, mode="constant", truncate=10), atol=1e-12)
    X = (data[0][:64] / 255.0).astype(np.float32)[..., None]
    key = jax.random.PRNGKey(0)
    bent = np.asarray(random_affine(key, X, rotation=0.0, shift=0.0, scale=0.0, elastic=34.0))
    # Simard's strength moves pixels by a pixel or two: the ink changes place but keeps its mass
    # and its centre (a smooth field, not a shift of the whole digit).
    assert 0.03 < np.abs(bent - X).mean() < 0.2
    ratio = bent.sum(axis=(1, 2, 3)) / X.sum(axis=(1, 2, 3))  # a stretch here, a squeeze there
    assert abs(ratio.mean() - 1) < 0.05 and np.all((ratio > 0.5) & (ratio < 1.5))
    def centres(images):
        ink = images[..., 0]
        grid = np.arange(28)
        return np.stack([ink.sum(1) @ grid, ink.sum(2) @ grid], axis=1) / ink.sum(axis=(1, 2))[:, None]

    assert np.abs(centres(bent) - centres(X)).mean() < 1.0
    same = np.asarray(random_affine(key, X, rotation=0.0, shift=0.0, scale=0.0, elastic=0.0))
    np.testing.assert_allclose(same, X, atol=1e-5)


def test_learning_rate_schedule():
    from workbench.cnn_training import learning_rate_at

    rates = [learning_rate_at(s, 100, 1.0, 10, "cosine") for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(rates[9:], rates[10:], strict=False)) and rates[-1] < 1e-3
    assert learning_rate_at(50, 100, 0.5, 10, "constant") == 0.5


def test_clone_keeps_every_parameter():
    params = {
        "filters1": 4, "filters2": 6, "filters3": 10, "dense_units": 0, "dropout": 0.1, "epochs": 7, "batch_size": 16,
        "learning_rate": 1e-2, "lr_schedule": "constant", "rotation": 5.0, "shift": 1.0, "scale": 0.2, "elastic": 8.0,
        "corruption": 0.3, "printed": 0.2, "label_smoothing": 0.1, "ema_momentum": 0.99,
        "validation_fraction": 0.2, "early_stopping": True, "n_iter_no_change": 5, "warm_start": True,
        "random_state": 42, "verbose": 2,
    }
    assert set(params) == set(CNNClassifier().get_params())  # every parameter is exercised
    clf = CNNClassifier(**params)
    assert clone(clf).get_params() == params


def test_corruption_augmentation_corrupts_the_share_asked_and_keeps_the_range():
    from workbench.backend import jax
    from workbench.cnn_layers import random_corruption

    X, _ = workbench.load_mnist("test", subset=200)
    x = jax.numpy.asarray(X[..., None] / 255.0, dtype="float32")
    key = jax.random.PRNGKey(0)
    np.testing.assert_array_equal(np.asarray(random_corruption(key, x, probability=0.0)), np.asarray(x))
    out = np.asarray(random_corruption(key, x, probability=0.5))
    changed = np.abs(out - np.asarray(x)).max(axis=(1, 2, 3)) > 1e-6
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert 0.35 < changed.mean() < 0.65
    with pytest.raises(ValueError, match="The 'corruption' parameter of CNNClassifier must be"):
        CNNClassifier(corruption=1.5, epochs=1).fit(X[:20], np.arange(20) % 2)


def test_training_median_filter_is_the_normalisers():
    # Noisy training images are median-filtered as MnistNormalize filters noisy inputs (cv2).
    import cv2

    from workbench.cnn_layers import median3x3

    x = np.random.default_rng(0).integers(0, 256, (32, 28, 28)).astype(np.uint8)
    expected = np.stack([cv2.medianBlur(image, 3) for image in x])
    np.testing.assert_array_equal(np.asarray(median3x3(x.astype(np.float32))), expected)


def test_weight_average_is_what_predicts(data, fitted):
    X, y = data
    averaged = CNNClassifier(**SMALL, ema_momentum=0.9).fit(X, y)
    stored = averaged._optimizer._model_variables_moving_average
    for variable, average in zip(averaged.model_.trainable_variables, stored, strict=True):
        np.testing.assert_array_equal(np.asarray(variable.value), np.asarray(average.value))
    # Same seed, same steps: only the averaging differs.
    assert not np.allclose(averaged.predict_proba(X[:50]), fitted.predict_proba(X[:50]), atol=1e-3)
    assert averaged.score(X, y) > 0.5
    with pytest.raises(ValueError, match="ema_momentum and early_stopping"):
        CNNClassifier(ema_momentum=0.9, early_stopping=True, validation_fraction=0.1).fit(X, y)
    with pytest.raises(ValueError, match="The 'ema_momentum' parameter of CNNClassifier must be"):
        CNNClassifier(ema_momentum=1.0).fit(X, y)


def test_label_smoothing_keeps_the_network_from_certainty(data, fitted):
    X, y = data
    smoothed = CNNClassifier(**SMALL, label_smoothing=0.3).fit(X, y)
    # Same seed, same steps: the targets alone differ. Against targets of 0.73 for the true
    # class and 0.03 for each other, the network does not grow surer than 0.73 of its training
    # images (here 0.65 against 0.81 without smoothing).
    sure = np.median(fitted.predict_proba(X).max(axis=1))
    smooth = np.median(smoothed.predict_proba(X).max(axis=1))
    assert smooth < 0.75 and sure - smooth > 0.08
    assert smoothed.score(X, y) > 0.5
    with pytest.raises(ValueError, match="The 'label_smoothing' parameter of CNNClassifier must be"):
        CNNClassifier(label_smoothing=1.0).fit(X, y)


def test_fit_predict_history(fitted, data):
    X, y = data
    proba = fitted.predict_proba(X[:3])
    assert proba.shape == (3, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert fitted.score(X, y) > 0.5
    assert set(fitted.history_) == {"loss", "accuracy", "learning_rate", "epoch_time"}
    assert all(len(values) == 3 for values in fitted.history_.values()) and fitted.n_iter_ == 3


def test_batch_norm_statistics_are_those_of_the_clean_training_images(fitted, data):
    # After fit, the first batch norm's statistics are the exact per-channel mean and variance
    # of the first convolution's output over the (unaugmented) training images.
    from workbench.backend import keras

    model = fitted.model_
    bn = next(la for la in model.layers if isinstance(la, keras.layers.BatchNormalization))
    conv = np.asarray(keras.Model(model.input, bn.input)(check_images(data[0])[..., None]))
    conv = conv.reshape(-1, conv.shape[-1]).astype(np.float64)
    np.testing.assert_allclose(np.asarray(bn.moving_mean), conv.mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(bn.moving_variance), conv.var(0), rtol=1e-3, atol=1e-5)


def test_keras_predict_on_the_network_does_not_break_the_estimator(data):
    # Keras' Model.predict donates the variables' buffers; the estimator keeps its own copies.
    X, y = data
    clf = CNNClassifier(**{**SMALL, "epochs": 1}).fit(X, y)
    before = clf.predict_proba(X[:8])
    clf.model_.predict(check_images(X[:8])[..., None], verbose=0)
    np.testing.assert_array_equal(clf.predict_proba(X[:8]), before)


def test_batches_of_every_size_agree(fitted, data):
    X, _ = data
    whole = fitted.predict_proba(X)  # 600 = one 512 bucket + a padded 64... bucket
    singles = np.concatenate([fitted.predict_proba(X[i : i + 1]) for i in range(0, 600, 37)])
    np.testing.assert_allclose(singles, whole[::37], atol=1e-6)


def test_pickle_and_store_give_identical_predictions(fitted, data, models_dir):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X[:100]), fitted.predict_proba(X[:100]))
    workbench.save_model(fitted, "tiny_cnn")
    loaded = workbench.load_model("tiny_cnn")
    np.testing.assert_array_equal(loaded.predict_proba(X[:100]), fitted.predict_proba(X[:100]))


def test_a_model_saved_before_a_parameter_existed_loads_with_its_default(fitted, data):
    X, _ = data
    state = fitted.__getstate__()
    del state["ema_momentum"], state["corruption"]  # as saved by an older workbench
    old = CNNClassifier.__new__(CNNClassifier)
    old.__setstate__(state)
    assert old.get_params()["ema_momentum"] == 0.0 and old.get_params()["corruption"] == 0.0
    np.testing.assert_array_equal(old.predict_proba(X[:20]), fitted.predict_proba(X[:20]))


def test_same_seed_same_predictions(fitted, data):
    X, y = data
    again = CNNClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X[:100]), fitted.predict_proba(X[:100]))
    other = CNNClassifier(**{**SMALL, "random_state": 1}).fit(X, y)
    assert not np.array_equal(other.predict_proba(X[:100]), fitted.predict_proba(X[:100]))


def test_any_labels_and_input_forms(data):
    X, y = data
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = CNNClassifier(**{**SMALL, "epochs": 1}).fit(X.reshape(len(X), 784), labels[y])
    assert list(clf.classes_) == sorted(labels)
    assert clf.predict(X[:4, :, :, None]).dtype == labels.dtype
    np.testing.assert_array_equal(clf.predict_proba(X[:4]), clf.predict_proba(X[:4].reshape(4, 784) / 255.0))


def test_warm_start_continues_and_partial_fit(data):
    X, y = data
    clf = CNNClassifier(**{**SMALL, "epochs": 1, "warm_start": True}).fit(X, y)
    weights = [w.copy() for w in clf.model_.get_weights()]
    clf.fit(X, y)
    assert len(clf.history_["loss"]) == 2 and clf.n_iter_ == 2  # continued, not restarted
    assert any(not np.array_equal(a, b) for a, b in zip(weights, clf.model_.get_weights(), strict=True))
    with pytest.raises(ValueError, match="warm_start: y has classes"):
        clf.fit(X[y < 5], y[y < 5])
    inc = CNNClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes must be passed"):
        inc.partial_fit(X[:100], y[:100])
    inc.partial_fit(X[:300], y[:300], classes=np.arange(10))
    inc.partial_fit(X[300:], y[300:])
    assert len(inc.history_["loss"]) == 2 and inc.history_["learning_rate"] == [3e-3, 3e-3]
    with pytest.raises(ValueError, match=r"labels \[11\] not in classes_"):
        inc.partial_fit(X[:2], [1, 11])


def test_validation_and_early_stopping(data):
    X, y = data
    clf = CNNClassifier(**{**SMALL, "epochs": 30, "learning_rate": 0.05, "lr_schedule": "constant",
                           "validation_fraction": 0.25, "early_stopping": True, "n_iter_no_change": 2}).fit(X, y)
    history = clf.history_
    assert {"val_loss", "val_accuracy"} <= history.keys()
    assert clf.n_iter_ < 30  # stopped early
    best = int(np.argmin(history["val_loss"]))
    assert clf.best_epoch_ == best + 1 and clf.n_iter_ == best + 1 + 2


def test_verbose_output(data, capsys):
    X, y = data
    CNNClassifier(**{**SMALL, "epochs": 1}).fit(X[:100], y[:100])
    assert capsys.readouterr() == ("", "")
    CNNClassifier(**{**SMALL, "epochs": 2, "verbose": 2}).fit(X[:100], y[:100])
    err = capsys.readouterr().err
    assert "epoch 1: loss" in err and "epoch 2: loss" in err


def test_bad_input_and_params(fitted):
    with pytest.raises(ValueError, match="at least 2 classes"):
        CNNClassifier(**SMALL).fit(np.zeros((4, 28, 28), np.uint8), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(np.full((1, 784), np.nan))
    with pytest.raises(ValueError, match="one label per image"):
        CNNClassifier(**SMALL).fit(np.zeros((4, 28, 28), np.uint8), [0, 1])
    with pytest.raises(ValueError, match="early_stopping needs a validation set"):
        CNNClassifier(early_stopping=True).fit(np.zeros((4, 28, 28), np.uint8), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="The 'lr_schedule' parameter of CNNClassifier must be a str among"):
        CNNClassifier(lr_schedule="step").fit(np.zeros((4, 28, 28), np.uint8), [0, 1, 0, 1])


@pytest.mark.parametrize("param, value", [("filters1", 0), ("dense_units", -1), ("dropout", 1.0), ("epochs", 0),
                                          ("batch_size", 0), ("learning_rate", 0.0), ("rotation", -5.0),
                                          ("shift", 20.0), ("scale", 1.5), ("elastic", -1.0),
                                          ("validation_fraction", 1.0), ("random_state", -1), ("epochs", 2.5)])
def test_every_parameter_is_checked_before_any_training(param, value):
    """scikit-learn's own parameter validation: the parameter, its range and the value, in one
    message, before a network is built."""
    clf = CNNClassifier(**{param: value})
    with pytest.raises(ValueError, match=f"The '{param}' parameter of CNNClassifier must be .* Got {value!r} instead"):
        clf.fit(np.zeros((4, 28, 28), np.uint8), [0, 1, 0, 1])
    assert not hasattr(clf, "classes_")


def test_printed_digits_join_the_training_data_of_the_classes_present(data, monkeypatch):
    from workbench import printed

    X, y = data
    keep = np.isin(y, [3, 7])
    clf = CNNClassifier(**{**SMALL, "epochs": 1, "printed": 0.5})
    clf._init_model(np.array([3, 7]))
    fonts_used = []
    real = printed.printed_digits
    monkeypatch.setattr(printed, "printed_digits",
                        lambda *a, fonts, **k: fonts_used.append(fonts) or real(*a, fonts=fonts, **k))
    images, labels = clf._with_printed(check_images(X[keep])[..., None], y[keep], 0.5)
    learned, measured = printed.font_halves()  # the fixtures print in the second half only
    assert fonts_used == [learned] and learned and measured and not set(learned) & set(measured)
    assert len(images) == keep.sum() + round(0.5 * keep.sum()) and images.shape[1:] == (28, 28, 1)
    assert set(labels[keep.sum():]) == {3, 7} and 0 <= images.min() and images.max() <= 1
    assert clf.fit(X[keep], y[keep]).classes_.tolist() == [3, 7]
    with pytest.raises(ValueError, match="printed needs the labels to be the integers 0-9"):
        CNNClassifier(**{**SMALL, "printed": 0.1}).fit(X[:20], np.array(["a", "b"] * 10))
    with pytest.raises(ValueError, match="The 'printed' parameter of CNNClassifier must be"):
        CNNClassifier(printed=2).fit(X[:20], y[:20])

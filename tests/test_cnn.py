"""The CNN estimator's contract on small data (the accuracy target is checked by the shipped
model and the benchmarks, not here)."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from workbench.cnn import CNNClassifier, build_cnn

SMALL = dict(filters1=8, filters2=8, dense_units=32, epochs=3, batch_size=32, learning_rate=3e-3, random_state=0)


@pytest.fixture(scope="module")
def data():
    from workbench import load_mnist

    X, y = load_mnist("train", subset=600)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return CNNClassifier(**SMALL).fit(X, y)


def test_build_cnn_is_pure():
    model = build_cnn(7, filters1=4, filters2=4, dense_units=0)
    assert model.output_shape == (None, 7) and not model.compiled


def test_clone_keeps_every_parameter():
    params = {**SMALL, "dropout": 0.1, "learning_rate": 1e-2, "validation_fraction": 0.2}
    clf = CNNClassifier(**params, warm_start=True, verbose=2)
    assert clone(clf).get_params() == clf.get_params()


def test_fit_predict_history(fitted, data):
    X, y = data
    assert fitted.predict_proba(X[:3]).shape == (3, 10)
    assert fitted.score(X, y) > 0.5
    assert set(fitted.history_) >= {"loss", "accuracy", "epoch_time"} and len(fitted.history_["loss"]) == 3


def test_pickle_gives_identical_predictions(fitted, data):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X[:100]), fitted.predict_proba(X[:100]))


def test_same_seed_same_predictions(fitted, data):
    X, y = data
    again = CNNClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X[:100]), fitted.predict_proba(X[:100]))


def test_any_labels_and_input_forms(data):
    X, y = data
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = CNNClassifier(**{**SMALL, "epochs": 1}).fit(X.reshape(len(X), 784), labels[y])
    assert set(clf.classes_) == set(labels)
    assert clf.predict(X[:4, :, :, None]).dtype == labels.dtype


def test_warm_start_continues_and_partial_fit(data):
    X, y = data
    clf = CNNClassifier(**{**SMALL, "epochs": 1, "warm_start": True}).fit(X, y)
    weights = [w.copy() for w in clf.model_.get_weights()]
    clf.fit(X, y)
    assert len(clf.history_["loss"]) == 2  # continued, not restarted
    assert any(not np.array_equal(a, b) for a, b in zip(weights, clf.model_.get_weights(), strict=True))
    inc = CNNClassifier(**SMALL)
    with pytest.raises(ValueError, match="classes must be passed"):
        inc.partial_fit(X[:100], y[:100])
    inc.partial_fit(X[:300], y[:300], classes=np.arange(10))
    inc.partial_fit(X[300:], y[300:])
    assert len(inc.history_["loss"]) == 2 and inc.predict_proba(X[:2]).shape == (2, 10)


def test_bad_input(fitted):
    with pytest.raises(ValueError, match="at least 2 classes"):
        CNNClassifier(**SMALL).fit(np.zeros((4, 28, 28), np.uint8), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(np.full((1, 784), np.nan))
    with pytest.raises(ValueError, match="one label per image"):
        CNNClassifier(**SMALL).fit(np.zeros((4, 28, 28), np.uint8), [0, 1])

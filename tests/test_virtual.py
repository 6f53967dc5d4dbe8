"""Virtual support vectors: the second SVM trains on the first one's support vectors and
their one-pixel shifts."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

import workbench
from workbench.transforms import ImageInput
from workbench.virtual import VirtualSupportVectors, shifted, support_indices


@pytest.fixture(scope="module")
def data():
    return workbench.load_mnist("train", subset=400)


def test_shifts_move_the_ink_and_fill_with_zeros():
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 10, 20] = 255
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1), (2, -3)):
        moved = shifted(image, dy, dx)[0]
        assert moved.sum() == 255 and moved[10 + dy, 20 + dx] == 255
    border = np.zeros((1, 28, 28), np.uint8)
    border[0, 0, :] = 255
    assert shifted(border, -1, 0).sum() == 0  # ink pushed out is gone, nothing wraps around


def test_second_fit_uses_support_vectors_and_their_shifts(data):
    X, y = data
    base = make_pipeline(ImageInput(), CalibratedClassifierCV(SVC(C=10), cv=3, ensemble=False))
    clf = VirtualSupportVectors(base).fit(X, y)
    first = clone(base).fit(workbench.transforms.check_images(X), y)
    assert clf.n_support_ == len(support_indices(first)) < len(X)
    assert support_indices(clf.estimator_).max() < 5 * clf.n_support_  # trained on 5 x the support vectors
    assert clf.predict_proba(X[:5]).shape == (5, 10) and clf.score(X, y) > 0.9
    assert list(clf.classes_) == list(range(10))


def test_an_estimator_without_support_vectors_is_named(data):
    X, y = data
    with pytest.raises(ValueError, match="RandomForestClassifier has no support vectors"):
        VirtualSupportVectors(make_pipeline(ImageInput(), RandomForestClassifier(n_estimators=5))).fit(X, y)


def test_an_estimator_without_fit_is_refused_by_name():
    X, y = workbench.load_mnist("train", subset=20)
    with pytest.raises(ValueError, match="The 'estimator' parameter of VirtualSupportVectors must be an object"):
        VirtualSupportVectors("svc").fit(X, y)

"""Virtual support vectors: an SVM retrained on its support vectors and their shifted copies.

The classical route to MNIST's best non-neural scores (DeCoste & Schoelkopf, "Training
invariant support vector machines", 2002: 99.44% with deskewing and 2-pixel jitter). A first
SVM finds the training images that decide the boundary (its support vectors); each of them is
copied, shifted by a pixel in each direction, and a second SVM is trained on the support
vectors and their copies. Only the boundary's images are multiplied, so the second fit costs
about what the first did, where shifting all 60,000 images would multiply it many times over.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from workbench.transforms import check_images

# One pixel up, down, left and right: the four virtual copies of each support vector.
SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``images`` ``(n, h, w)`` moved ``dy`` rows down and ``dx`` columns right, zero-filled.

    >>> shifted(np.arange(9).reshape(1, 3, 3), 1, 0)[0].tolist()
    [[0, 0, 0], [0, 1, 2], [3, 4, 5]]
    """
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = (
        images[:, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    )
    return out


def support_indices(model) -> np.ndarray:
    """Indices of the training rows that are support vectors of ``model``: an SVM, or a
    pipeline or a ``CalibratedClassifierCV(ensemble=False)`` that ends in one."""
    while True:
        if hasattr(model, "support_"):
            return np.asarray(model.support_)
        if hasattr(model, "steps"):
            model = model.steps[-1][1]
        elif hasattr(model, "calibrated_classifiers_") and len(model.calibrated_classifiers_) == 1:
            model = model.calibrated_classifiers_[0].estimator
        else:
            raise ValueError(
                f"{type(model).__name__} has no support vectors: VirtualSupportVectors needs an SVM "
                "(SVC, or a pipeline / CalibratedClassifierCV(ensemble=False) ending in one)"
            )


class VirtualSupportVectors(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit ``estimator`` (ending in an SVM) on the images, then fit a copy of it on its support
    vectors plus their copies shifted one pixel up, down, left and right.

    Parameters
    ----------
    estimator : estimator
        A classifier of digit images whose last step is an SVM (see :func:`support_indices`),
        e.g. deskew + HOG + SVC.

    Attributes
    ----------
    estimator_ : estimator
        The second fit, which predicts.
    n_support_ : int
        Support vectors of the first fit (the second trains on five times as many images).
    classes_ : ndarray

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import SVC
    >>> from workbench import load_mnist
    >>> from workbench.transforms import ImageInput
    >>> X, y = load_mnist("train", subset=300)
    >>> clf = VirtualSupportVectors(make_pipeline(ImageInput(), SVC())).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {"estimator": [HasMethods(["fit", "predict"])]}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit twice: on ``X``, then on its support vectors and their shifted copies."""
        self._validate_params()
        images = check_images(X)
        y = np.asarray(y)
        first = clone(self.estimator).fit(images, y)
        support = support_indices(first)
        vectors, labels = images[support], y[support]
        self.n_support_ = len(support)
        virtual = np.concatenate([vectors] + [shifted(vectors, dy, dx) for dy, dx in SHIFTS])
        self.estimator_ = clone(self.estimator).fit(virtual, np.tile(labels, len(SHIFTS) + 1))
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

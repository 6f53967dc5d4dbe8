"""Statistics for comparing classifiers: McNemar's test, the corrected resampled t-test, and
calibration error. Pure functions of arrays; SciPy supplies the distributions."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mcnemar(y_true, pred_a, pred_b) -> dict:
    """McNemar's exact test: do two classifiers err on the same test set at different rates?

    Only the images on which exactly one of the two is right count: ``a_only`` (A right, B
    wrong) and ``b_only``. Under the null hypothesis each of those is equally likely to go
    either way, so ``a_only`` is Binomial(a_only + b_only, 1/2); the p-value is two-sided.

    Returns
    -------
    dict
        ``a_only``, ``b_only``, ``p_value``.

    Examples
    --------
    >>> mcnemar([0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 0, 1])["a_only"]
    2
    """
    y_true, pred_a, pred_b = map(np.asarray, (y_true, pred_a, pred_b))
    right_a, right_b = pred_a == y_true, pred_b == y_true
    a_only, b_only = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    n = a_only + b_only
    p = 1.0 if n == 0 else float(stats.binomtest(a_only, n, 0.5).pvalue)
    return {"a_only": a_only, "b_only": b_only, "p_value": p}


def corrected_resampled_ttest(scores_a, scores_b, n_train: int, n_test: int) -> dict:
    """Nadeau and Bengio's corrected resampled t-test on paired cross-validation scores.

    The folds of K-fold CV share training data, so their scores are correlated and the plain
    paired t-test is far too confident. The correction inflates the variance of the mean
    difference by ``1/K + n_test/n_train`` instead of ``1/K`` (Nadeau & Bengio, 2003; Bouckaert
    & Frank, 2004).

    Parameters
    ----------
    scores_a, scores_b : array-like of shape (K,)
        The two models' scores on the same K folds.
    n_train, n_test : int
        Training and test size of one fold.

    Returns
    -------
    dict
        ``mean_difference`` (A - B), ``t``, ``p_value`` (two-sided; NaN when every fold
        gives the same difference, as then there is no variance to test against).
    """
    diff = np.asarray(scores_a, float) - np.asarray(scores_b, float)
    k = len(diff)
    if k < 2:
        raise ValueError(f"the t-test needs at least 2 folds, got {k}")
    mean, var = float(diff.mean()), float(diff.var(ddof=1))
    if var == 0:
        return {"mean_difference": mean, "t": math.nan, "p_value": math.nan}
    t = mean / math.sqrt((1 / k + n_test / n_train) * var)
    return {"mean_difference": mean, "t": t, "p_value": float(2 * stats.t.sf(abs(t), k - 1))}


def expected_calibration_error(y_true, proba, classes=None, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence (equal-width bins).

    The mean over bins of ``|accuracy - confidence|``, weighted by the share of images in
    each bin: 0 for a perfectly calibrated model.

    Parameters
    ----------
    y_true : array-like of shape (n,)
    proba : array-like of shape (n, n_classes)
    classes : array-like, optional
        The label of each column of ``proba`` (default ``0..n_classes-1``).
    n_bins : int, default=15
    """
    proba = np.asarray(proba, float)
    classes = np.arange(proba.shape[1]) if classes is None else np.asarray(classes)
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == np.asarray(y_true)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)

"""Statistics used by model comparisons."""

import math

import numpy as np
import pytest

from workbench.stats import corrected_resampled_ttest, expected_calibration_error, mcnemar


def test_mcnemar_counts_disagreements_and_tests_them():
    y = np.zeros(100, int)
    a = y.copy()
    b = y.copy()
    b[:12] = 1  # B wrong on 12 images where A is right
    a[50:52] = 1  # A wrong on 2 where B is right
    result = mcnemar(y, a, b)
    assert (result["a_only"], result["b_only"]) == (12, 2)
    # exact two-sided binomial p for 12 of 14 at 1/2: 2 * (C(14,12)+C(14,13)+C(14,14)) / 2**14
    assert result["p_value"] == pytest.approx(2 * (91 + 14 + 1) / 2**14)
    assert mcnemar(y, y, y)["p_value"] == 1.0


def test_corrected_ttest_is_more_cautious_than_the_plain_one():
    from scipy import stats

    a = np.array([0.97, 0.96, 0.975, 0.965, 0.97])
    b = np.array([0.96, 0.955, 0.962, 0.958, 0.966])
    corrected = corrected_resampled_ttest(a, b, n_train=800, n_test=200)
    plain = stats.ttest_rel(a, b)
    assert corrected["mean_difference"] == pytest.approx(np.mean(a - b))
    assert corrected["p_value"] > plain.pvalue
    # with no train/test overlap correction the statistic is the plain paired t
    assert corrected_resampled_ttest(a, b, n_train=10**12, n_test=0)["t"] == pytest.approx(plain.statistic)
    assert math.isnan(corrected_resampled_ttest(a, a, 800, 200)["p_value"])
    with pytest.raises(ValueError, match="at least 2 folds"):
        corrected_resampled_ttest([1.0], [0.5], 800, 200)


def test_expected_calibration_error():
    y = np.array([0, 1, 0, 1])
    perfect = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(y, perfect) == 0
    # always 90% sure, right half of the time: off by 0.4
    overconfident = np.array([[0.9, 0.1]] * 4)
    assert expected_calibration_error(y, overconfident) == pytest.approx(0.4)
    # classes other than 0..n-1 name the columns
    assert expected_calibration_error(np.array([3, 7]), np.array([[1.0, 0.0], [0.0, 1.0]]), classes=[3, 7]) == 0

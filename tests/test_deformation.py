"""The deformation-tolerant nearest-neighbour classifier (workbench.deformation)."""

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from workbench import load_mnist
from workbench.deformation import DeformationKNN, gradients, idm_distances
from workbench.virtual import shifted


def test_a_pixel_may_move_as_far_as_the_warp_allows():
    """A digit moved two pixels is at distance 0 from itself with warp 2, not with warp 1; a
    different digit stays far."""
    X, y = load_mnist("test", subset=50)
    digit = X[y == 3][0].astype(np.float32) / 255
    other = X[y == 4][0].astype(np.float32) / 255
    moved = shifted(digit[None], 2, -2)[0]
    g = gradients(np.stack([digit, moved, other]))
    refs = g[[1, 2]][None]  # the query `digit` against `moved` and `other`
    warp2, warp1, warp0 = (idm_distances(g[:1], refs, w)[0] for w in (2, 1, 0))
    assert warp2[0] < 1e-6 < warp1[0] < warp0[0]
    assert warp2[1] > 0.3 * warp0[1]  # a 4 does not turn into a 3 by moving pixels two places


def test_no_warp_is_the_plain_distance_of_gradient_patches():
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 28, 28)).astype(np.float32)
    ga, gb = gradients(np.stack([a, b]))
    squared = ((ga - gb) ** 2).sum(axis=0)
    # each pixel's 3x3 patch counts each pixel's difference up to nine times (fewer at the edges)
    counts = np.full(28, 3.0)
    counts[[0, -1]] = 2
    expected = (squared * np.outer(counts, counts)).sum()
    np.testing.assert_allclose(idm_distances(ga[None], gb[None, None], 0)[0, 0], expected, rtol=1e-4)


def test_it_reads_shifted_digits_that_plain_neighbours_miss():
    """Trained on 2,000 digits, tested on 300 others moved two pixels: the IDM neighbours stay
    accurate where Euclidean ones fall apart."""
    X, y = load_mnist("train", subset=2300)
    test = np.concatenate([shifted(X[2000 + i :: 4][:75], dy, dx) for i, (dy, dx) in
                           enumerate(((2, 0), (-2, 0), (0, 2), (0, -2)))])
    truth = np.concatenate([y[2000 + i :: 4][:75] for i in range(4)])
    idm = DeformationKNN(candidates=100).fit(X[:2000], y[:2000]).score(test, truth)  # 400 (shipped): 19 s, 96%
    plain = KNeighborsClassifier(3).fit(X[:2000].reshape(2000, -1), y[:2000]).score(test.reshape(len(test), -1), truth)
    print(f"IDM {idm:.1%}, Euclidean {plain:.1%}")
    assert idm >= 0.85 and idm >= plain + 0.15  # 94.0% and 63.3% on 2026-12-07


def test_probabilities_are_the_nearest_neighbours_weighted_vote():
    X, y = load_mnist("train", subset=600)
    clf = DeformationKNN(n_neighbors=5, candidates=50).fit(X[:500], y[:500])
    proba = clf.predict_proba(X[500:])
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert ((proba > 0).sum(axis=1) <= 5).all()
    # the training digits themselves: their own distance is zero, so they vote alone
    np.testing.assert_array_equal(clf.predict(X[:50]), y[:50])


def test_a_refit_on_other_digits_of_the_same_count_forgets_the_first():
    """The blurred copy of the training digits is rebuilt on every fit, not only when the
    count changes."""
    X, y = load_mnist("train", subset=700)
    clf = DeformationKNN(candidates=50).fit(X[:300], y[:300])
    clf.predict(X[600:])
    refit = clf.fit(X[300:600], y[300:600]).predict_proba(X[600:])
    fresh = DeformationKNN(candidates=50).fit(X[300:600], y[300:600])
    np.testing.assert_array_equal(refit, fresh.predict_proba(X[600:]))


@pytest.mark.parametrize("params, message", [
    ({"warp": -1}, "The 'warp' parameter of DeformationKNN must be an int in the range \\[0, inf\\)"),
    ({"n_neighbors": 0}, "The 'n_neighbors' parameter of DeformationKNN must be an int in the range \\[1, inf\\)"),
    ({"candidates": 2.5}, "The 'candidates' parameter of DeformationKNN must be an int"),
])
def test_bad_parameters_name_the_problem(params, message):
    X, y = load_mnist("train", subset=20)
    with pytest.raises(ValueError, match=message):
        DeformationKNN(**params).fit(X, y)

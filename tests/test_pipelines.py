import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline

import workbench
from workbench.registry import pipeline_summary
from workbench.store import IMPORTED_TYPES, TRUSTED_TYPES, load_model, model_types, save_model

# Small parameter overrides so that every pipeline fits on 1,000 images in seconds.
FAST = {"cnn": {"clf__epochs": 2}, "cnn_ensemble": {f"clf__cnn{seed}__epochs": 1 for seed in range(3)},
        "random_forest": {"clf__n_estimators": 30},
        "idm_knn": {"clf__candidates": 40}}  # the cost is per candidate: 64 s with the 400 it ships with
TYPES_USED: dict[str, set] = {}  # pipeline -> the (loader, type) pairs of its saved model
REQUIRED = {"logreg", "pca_knn", "random_forest", "svc_rbf", "hog_svc", "deskew_svc", "deskew_hog_svc", "cnn"}


def test_registry_lists_the_required_pipelines():
    names = workbench.list_pipelines()
    assert REQUIRED <= set(names)
    assert all(pipeline_summary(name) for name in names)


def test_unknown_pipeline_names_the_problem():
    with pytest.raises(ValueError, match=r"unknown pipeline 'logref'; did you mean 'logreg'\?"):
        workbench.get_pipeline("logref")


def test_params_are_applied_and_bad_params_rejected():
    pipe = workbench.get_pipeline("pca_knn", clf__n_neighbors=7, pca__n_components=20)
    assert pipe.named_steps["clf"].n_neighbors == 7 and pipe.named_steps["pca"].n_components == 20
    with pytest.raises(ValueError, match="Invalid parameter"):
        workbench.get_pipeline("pca_knn", clf__no_such_thing=1)


@pytest.mark.parametrize("name", workbench.list_pipelines())
def test_every_pipeline_learns_and_gives_probabilities(name, mnist_small, tmp_path):
    X, y, X_test, y_test = mnist_small
    pipe = workbench.get_pipeline(name, **FAST.get(name, {}))
    assert isinstance(pipe, Pipeline)
    pipe.fit(X, y)
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-4)
    assert list(pipe.classes_) == list(range(10))
    # well above chance (10%) even on 1,000 images; the full-data figures are in the README
    assert pipe.score(X_test, y_test) > 0.6
    # every input form of the contract works
    flat = pipe.predict(X_test[:5].reshape(5, 784))
    assert np.array_equal(flat, pipe.predict(X_test[:5, :, :, None]))
    assert np.array_equal(flat, pipe.predict(X_test[:5] / 255.0))
    params = pipe.get_params()
    assert clone(pipe).get_params().keys() == params.keys()
    # its fitted model file holds only trusted types, and loads through the store's checks
    import skops.io

    TYPES_USED[name] = model_types(skops.io.dumps(pipe))
    assert TYPES_USED[name] <= TRUSTED_TYPES, f"add to store.TRUSTED_TYPES: {TYPES_USED[name] - TRUSTED_TYPES}"
    save_model(pipe, name, directory=tmp_path)
    np.testing.assert_allclose(load_model(name, directory=tmp_path).predict_proba(X_test[:20]), proba[:20], atol=1e-5)


def test_trusted_types_are_exactly_those_the_pipelines_use():
    """The model store trusts no type that no registered pipeline needs (runs after the fits)."""
    if set(TYPES_USED) != set(workbench.list_pipelines()):
        pytest.skip("needs every pipeline's fit test in the same run")
    used = set().union(*TYPES_USED.values()) | IMPORTED_TYPES  # (tests/test_import_export.py checks those)
    assert TRUSTED_TYPES == used, f"unused: {TRUSTED_TYPES - used}; missing: {used - TRUSTED_TYPES}"

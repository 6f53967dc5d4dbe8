import numpy as np
import pytest

from workbench import load_mnist


@pytest.fixture(scope="session")
def mnist_small():
    """1,000 stratified training images and 500 test images."""
    X, y = load_mnist("train", subset=1000)
    X_test, y_test = load_mnist("test", subset=500)
    return X, y, X_test, y_test


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """An empty model store for the test (WORKBENCH_MODELS points at it)."""
    directory = tmp_path / "models"
    monkeypatch.setenv("WORKBENCH_MODELS", str(directory))
    return directory


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def logreg_predictor():
    """A Predictor serving the shipped logreg model (fast to load; no JAX compile)."""
    from workbench.live.predictor import Predictor, load_active

    predictor = Predictor(load_active("logreg"))
    yield predictor
    predictor.close()

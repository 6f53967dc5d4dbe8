import atexit
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

from workbench import load_mnist


def _session_folder(variable: str, prefix: str) -> None:
    """Point ``variable`` at a temporary folder of this test session (removed when it ends),
    unless it is set (by the user, or by the session that started this pytest-xdist worker)."""
    if variable not in os.environ:
        os.environ[variable] = folder = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


# The commands the tests run keep their compiled XLA programs in a folder of this test session,
# not in the user's cache (workbench.backend.use_compilation_cache); subprocesses inherit it.
_session_folder("WORKBENCH_XLA_CACHE", "workbench-test-xla-")
# Models the tests save without a folder of their own go to one of this session, not the user's.
_session_folder("WORKBENCH_MODELS", "workbench-test-models-")


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
def display():
    """A private Xvfb server (24-bit, 1280x800); its DISPLAY string."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=[write], stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def logreg_models(tmp_path, monkeypatch):
    """A models folder holding a copy of the shipped logreg model (WORKBENCH_MODELS points at it)."""
    import shutil

    from workbench.store import shipped_dir

    directory = tmp_path / "models"
    directory.mkdir()
    for path in shipped_dir().glob("logreg*"):
        shutil.copy(path, directory)
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

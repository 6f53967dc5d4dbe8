"""Models from outside (`workbench import`) and out (`workbench export`)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import skops.io

import workbench
from workbench.cli import main
from workbench.store import IMPORTED_TYPES, TRUSTED_TYPES, load_model, model_types, save_model

MARKER = Path("/tmp/workbench-import-test-marker")


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    """A small Keras 3 digit classifier trained the usual way (MNIST / 255, logits out)."""
    from workbench.backend import keras

    X, y = workbench.load_mnist("train", subset=2000)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(X / 255.0, y, epochs=3, verbose=0)
    path = tmp_path_factory.mktemp("keras") / "mine.keras"
    model.save(path)
    return path


def test_a_keras_classifier_is_imported_and_served(keras_file, models_dir, tmp_path, capsys):
    assert main(["import", str(keras_file), "--name", "mine"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split(",")[0])
    assert accuracy > 0.85  # scored on the 10,000 test images, as every model is
    meta = json.loads((models_dir / "mine.json").read_text())
    assert meta["imported_from"] == str(keras_file) and meta["test"]["accuracy"] == accuracy
    pipe = load_model("mine")  # through the store's checks; the network rebuilt in safe mode
    proba = pipe.predict_proba(workbench.load_mnist("test", subset=50)[0])
    assert proba.shape == (50, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-4)  # logits became probabilities
    assert IMPORTED_TYPES <= model_types(skops.io.dumps(pipe)) <= TRUSTED_TYPES
    assert main(["evaluate", "mine", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == accuracy
    import cv2

    page = np.full((120, 120), 255, np.uint8)
    cv2.putText(page, "3", (35, 95), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 9)
    cv2.imwrite(str(tmp_path / "three.png"), page)
    assert main(["predict", "--model", "mine", str(tmp_path / "three.png"), "--log", str(tmp_path / "log.db")]) == 0
    with pytest.raises(NotImplementedError, match="train it in Keras"):
        pipe.fit(*workbench.load_mnist("train", subset=20))


def test_a_keras_file_with_code_in_it_is_refused(tmp_path, models_dir, capsys):
    from workbench.backend import keras

    MARKER.unlink(missing_ok=True)
    inputs = keras.Input((28, 28))
    hostile = keras.layers.Lambda(lambda x: x * 0 + float(__import__("pathlib").Path(str(MARKER)).touch() or 0))
    model = keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(hostile(inputs))))
    model.save(tmp_path / "hostile.keras")
    MARKER.unlink(missing_ok=True)
    assert main(["import", str(tmp_path / "hostile.keras"), "--name", "hostile"]) == 2
    err = capsys.readouterr().err
    assert "not a Keras model the workbench can load safely" in err and not MARKER.exists()
    assert not (models_dir / "hostile.json").exists()


def test_what_cannot_serve_digits_is_named(tmp_path, models_dir, capsys):
    from workbench.backend import keras

    wrong = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(10)])
    wrong.save(tmp_path / "cifar.keras")
    assert main(["import", str(tmp_path / "cifar.keras"), "--name", "x"]) == 2
    assert "takes input of shape (None, 32, 32, 3)" in capsys.readouterr().err
    five = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(5)])
    five.save(tmp_path / "five.keras")
    assert main(["import", str(tmp_path / "five.keras"), "--name", "x"]) == 2
    assert "needs 10 classes" in capsys.readouterr().err
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04N.")
    assert main(["import", str(tmp_path / "model.pkl"), "--name", "x"]) == 2
    assert "takes a scikit-learn pipeline saved with skops (.skops) or a Keras 3" in capsys.readouterr().err


def test_a_skops_pipeline_is_imported_with_the_type_checks(tmp_path, models_dir, capsys):
    X, y = workbench.load_mnist("train", subset=1000)
    pipe = workbench.get_pipeline("logreg").fit(X, y)
    skops.io.dump(pipe, tmp_path / "theirs.skops")
    assert main(["import", str(tmp_path / "theirs.skops"), "--name", "theirs"]) == 0
    assert "theirs: imported from" in capsys.readouterr().out
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    crafted = workbench.get_pipeline("logreg").fit(X, y)
    crafted.steps.insert(0, ("run", FunctionTransformer(print)))
    skops.io.dump(crafted, tmp_path / "crafted.skops")
    assert main(["import", str(tmp_path / "crafted.skops"), "--name", "crafted"]) == 1
    assert "does not trust" in capsys.readouterr().err
    skops.io.dump(LogisticRegression().fit(X.reshape(len(X), -1) / 255, y % 2), tmp_path / "binary.skops")
    assert main(["import", str(tmp_path / "binary.skops"), "--name", "binary"]) == 2
    assert "over the digits 0-9" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_cnn(tmp_path_factory):
    X, y = workbench.load_mnist("train", subset=600)
    pipe = workbench.get_pipeline("cnn", clf__epochs=1, clf__filters1=8, clf__filters2=8, clf__filters3=16)
    return pipe.fit(X, y)


def test_a_cnn_exports_to_a_keras_file_that_loads_without_the_workbench(tiny_cnn, tmp_path, models_dir, capsys):
    save_model(tiny_cnn, "tiny")
    out = tmp_path / "tiny.keras"
    assert main(["export", "tiny", "--out", str(out)]) == 0
    X = workbench.load_mnist("test", subset=64)[0]
    images = tiny_cnn.named_steps["normalize"].transform(X).reshape(-1, 28, 28, 1).astype(np.float32)
    np.save(tmp_path / "images.npy", images)
    script = ("import os, sys; os.environ['KERAS_BACKEND'] = 'jax'; import numpy as np, keras; "
              f"m = keras.saving.load_model({str(out)!r}); "
              f"np.save({str(tmp_path / 'p.npy')!r}, np.asarray(m.predict(np.load({str(tmp_path / 'images.npy')!r}), "
              "verbose=0))); assert 'workbench' not in sys.modules")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = tiny_cnn.named_steps["clf"].predict_proba(images)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, atol=1e-5)
    assert main(["export", "tiny", "--out", str(tmp_path)]) == 2
    assert "it is a folder" in capsys.readouterr().err
    assert main(["export", "tiny", "--out", str(tmp_path / "nowhere" / "tiny.keras")]) == 2
    assert "there is no folder" in capsys.readouterr().err
    save_model(workbench.get_pipeline("logreg").fit(*workbench.load_mnist("train", subset=300)), "lin")
    assert main(["export", "lin", "--out", str(tmp_path / "lin.keras")]) == 2
    assert "only a CNN model exports" in capsys.readouterr().err


def test_a_cnn_exports_to_onnx_that_onnxruntime_runs(tiny_cnn, tmp_path, models_dir):
    ort = pytest.importorskip("onnxruntime")  # both come with: pip install 'digit-workbench[onnx]'
    pytest.importorskip("jax2onnx")
    save_model(tiny_cnn, "tiny")
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir(), elsewhere.mkdir()
    assert main(["export", "tiny", "--format", "onnx", "--out", str(out / "tiny.onnx")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tiny.onnx"]  # one file: no data file beside it
    shutil.move(out / "tiny.onnx", elsewhere / "tiny.onnx")  # it loads alone, from anywhere
    images = tiny_cnn.named_steps["normalize"].transform(workbench.load_mnist("test", subset=64)[0])
    images = images.reshape(-1, 28, 28, 1).astype(np.float32)
    session = ort.InferenceSession(str(elsewhere / "tiny.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: images})[0]
    np.testing.assert_allclose(got, tiny_cnn.named_steps["clf"].predict_proba(images), atol=1e-5)

import json
import os

import numpy as np
import pytest

import workbench
from workbench.store import ModelFileError, list_models, resolve_model


@pytest.fixture(scope="module")
def fitted(mnist_small_module):
    X, y = mnist_small_module
    return workbench.get_pipeline("logreg").fit(X, y)


@pytest.fixture(scope="module")
def mnist_small_module():
    return workbench.load_mnist("train", subset=600)


def test_round_trip_gives_identical_predictions(fitted, models_dir, mnist_small_module):
    X, _ = mnist_small_module
    meta_path = workbench.save_model(fitted, "tiny", metadata={"pipeline": "logreg"})
    assert meta_path == models_dir / "tiny.json"
    meta = json.loads(meta_path.read_text())
    for key in ("name", "pipeline", "file", "file_bytes", "sha256", "versions", "created"):
        assert key in meta
    assert {"python", "scikit-learn", "numpy"} <= meta["versions"].keys()
    model_file = models_dir / meta["file"]
    assert model_file.stat().st_size == meta["file_bytes"]
    for ref in ("tiny", meta_path, model_file):
        loaded = workbench.load_model(ref)
        np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert [m["name"] for m in list_models() if m["source"] == "yours"] == ["tiny"]
    assert {m["name"] for m in list_models() if m["source"] == "shipped"} >= {"cnn", "logreg"}


def test_resave_replaces_and_cleans_up(fitted, models_dir):
    workbench.save_model(fitted, "m", metadata={"v": 1})
    first = resolve_model("m")[0]
    fitted.set_params(clf__C=0.5)  # changes the parameters, so the bytes, so the file name
    try:
        workbench.save_model(fitted, "m", metadata={"v": 2})
    finally:
        fitted.set_params(clf__C=1.0)
    second, meta = resolve_model("m")
    assert meta["v"] == 2 and second != first and not first.exists()
    assert sorted(p.name for p in models_dir.iterdir()) == sorted(["m.json", second.name])


def test_failed_save_keeps_the_previous_model(fitted, models_dir, monkeypatch):
    workbench.save_model(fitted, "keep")
    before = resolve_model("keep")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    fitted.set_params(clf__C=0.25)
    try:
        with monkeypatch.context() as patch, pytest.raises(OSError, match="disk full"):
            patch.setattr(os, "replace", crash)
            workbench.save_model(fitted, "keep")
    finally:
        fitted.set_params(clf__C=1.0)
    assert resolve_model("keep") == before
    workbench.load_model("keep")  # still loads and passes its checksum
    assert not [p for p in models_dir.iterdir() if p.name.endswith(".tmp")]


def test_tampered_and_truncated_files_are_refused(fitted, models_dir, tmp_path):
    workbench.save_model(fitted, "t")
    path, _ = resolve_model("t")
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match=rf"{path.name} fails its checksum"):
        workbench.load_model("t")
    bare = tmp_path / "bare.skops"  # a file with no metadata: no checksum to check, still refused
    bare.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelFileError, match="bare.skops is corrupt or not a skops file"):
        workbench.load_model(bare)


def test_untrusted_types_are_refused(models_dir, tmp_path):
    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    marker = tmp_path / "ran"
    evil = FunctionTransformer(func=os.system, kw_args={"command": f"touch {marker}"})
    path = tmp_path / "evil.skops"
    skops.io.dump(evil, path)
    with pytest.raises(ModelFileError, match=r"does not trust, refused: .*FunctionTransformer.*posix.system"):
        workbench.load_model(path)
    assert not marker.exists()


def test_bad_names_and_missing_models(fitted, models_dir):
    with pytest.raises(ValueError, match="model name '../x'"):
        workbench.save_model(fitted, "../x")
    with pytest.raises(ModelFileError, match="no model 'ghost'"):
        workbench.load_model("ghost")
    models_dir.mkdir()
    (models_dir / "broken.json").write_text("{not json")
    assert list_models()[0]["name"] == "broken" and "error" in list_models()[0]


def test_yours_stand_in_for_a_shipped_model_only_by_name_and_the_shipped_one_is_untouched(models_dir, capsys):
    from workbench.cli import main
    from workbench.store import load_model, resolve_model, shipped_dir

    shipped = {p.name: p.stat().st_mtime_ns for p in shipped_dir().rglob("*")}
    assert resolve_model("logreg")[0].parent == shipped_dir()
    assert main(["fit", "logreg", "--subset", "300"]) == 2  # a shipped name: not without --name
    assert "'logreg' is a shipped model" in capsys.readouterr().err
    assert main(["fit", "logreg", "--subset", "300", "--name", "logreg"]) == 0  # on purpose
    path, meta = resolve_model("logreg")
    assert path.parent == models_dir and meta["training_data"]["n"] == 300
    entries = [m for m in list_models() if m["name"] == "logreg"]
    assert [(m["source"], bool(m.get("shadowed"))) for m in entries] == [("yours", False), ("shipped", True)]
    assert main(["models"]) == 0
    assert "not used: yours of the same name is" in capsys.readouterr().out
    assert load_model("logreg", directory=shipped_dir()).predict(np.zeros((1, 28, 28), np.uint8)).shape == (1,)
    assert {p.name: p.stat().st_mtime_ns for p in shipped_dir().rglob("*")} == shipped  # nothing written there

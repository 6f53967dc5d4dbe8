"""Hostile model and metadata files, crafted by hand: skops files that would call a function
when loaded, estimators holding dangerous callables, and odd metadata next to good models.

Each payload writes a marker file if it ever runs; every test asserts that it never did.
"""

import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io
from sklearn.preprocessing import FunctionTransformer

from workbench.cli import main
from workbench.store import ModelFileError, list_models, load_model, resolve_model, save_model

SHIPPED = Path(__file__).resolve().parents[1] / "models"


def _json(value):
    return {"__class__": type(value).__name__, "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}


def _call(function: str, *args):
    """A skops node that calls ``module.name(*args)`` when it is built."""
    module, _, name = function.rpartition(".")
    return {"__class__": name, "__module__": module, "__loader__": "ConstructorFromReduceNode",
            "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                        "content": [_json(a) for a in args]}}


def _with_extra_attribute(source: Path, target: Path, node: dict) -> Path:
    """A copy of the shipped logreg model whose ImageInput step has one more attribute."""
    with zipfile.ZipFile(source) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(files["schema.json"])
    image_input = schema["content"]["content"]["steps"]["content"][0]["content"][1]
    assert image_input["__class__"] == "ImageInput"
    image_input["content"]["content"]["payload"] = node
    files["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


@pytest.fixture
def store(logreg_models, tmp_path, monkeypatch):
    """A models folder holding a copy of the shipped logreg model, the current folder beside it."""
    monkeypatch.chdir(tmp_path)
    return logreg_models


def _poison(store: Path, node: dict) -> Path:
    """Replace the store's logreg model file by a poisoned one whose checksum matches its metadata
    (the attacker rewrote both: the type check is what must stop it)."""
    path, meta = resolve_model("logreg", store)
    _with_extra_attribute(path, path, node)
    from workbench.data import sha256_file

    meta["sha256"] = sha256_file(path)
    (store / "logreg.json").write_text(json.dumps(meta))
    return path


PAYLOADS = {
    "builtins.exec": lambda marker: _call("builtins.exec", f"open({str(marker)!r}, 'w').write('ran')"),
    "numpy.testing._private.utils.runstring": lambda marker: _call(
        "numpy.testing._private.utils.runstring", f"open({str(marker)!r}, 'w').write('ran')", {}),
    "posix.system": lambda marker: _call("posix.system", f"touch {marker}"),
}


@pytest.mark.parametrize("function", sorted(PAYLOADS))
def test_a_model_that_calls_a_function_at_load_time_is_refused_everywhere(store, tmp_path, function, capsys):
    marker = tmp_path / "ran"
    path = _poison(store, PAYLOADS[function](marker))
    picture = tmp_path / "seven.png"
    import cv2

    cv2.imwrite(str(picture), np.full((50, 50), 255, np.uint8))
    for argv in (["evaluate", "logreg"], ["evaluate", str(path)], ["predict", "--model", "logreg", str(picture)],
                 ["predict", "--model", str(path), str(picture)]):
        assert main(argv) == 1, argv  # a file that cannot be read
        err = capsys.readouterr().err
        assert "does not trust" in err and function in err, (argv, err)
        assert err.count("\n") == 1  # one line
    with pytest.raises(ModelFileError, match=rf"refused: {function} \(ConstructorFromReduceNode\)"):
        load_model(path)
    assert not marker.exists()


def test_the_app_catalogue_refuses_a_poisoned_model_and_runs_nothing(store, tmp_path):
    """The app loads every listed model in the background: through the same checks."""
    from workbench.live.catalogue import ModelCatalogue

    marker = tmp_path / "ran"
    _poison(store, PAYLOADS["builtins.exec"](marker))
    catalogue = ModelCatalogue()
    catalogue.load(list_models(store), store)
    catalogue.close()
    assert "does not trust" in catalogue.get("logreg")
    assert not marker.exists()


@pytest.mark.parametrize("func", [eval, exec, np.load, os.system])
def test_an_estimator_holding_a_dangerous_callable_is_refused(tmp_path, func):
    marker = tmp_path / "ran"
    evil = FunctionTransformer(func=func, kw_args={"command": f"touch {marker}"})
    path = tmp_path / "evil.skops"
    skops.io.dump(evil, path)
    with pytest.raises(ModelFileError, match="does not trust") as error:
        load_model(path)
    assert "FunctionTransformer" in str(error.value)
    assert f"{func.__module__}.{func.__name__} (" in str(error.value)  # named, with how it would be built
    assert "no checksum was available" in str(error.value)
    assert not marker.exists()


def test_a_trusted_class_whose_argument_is_a_function_is_refused(tmp_path):
    """Classes the pipelines use are trusted only as the pipelines store them; a function given
    to one (a KNN metric, a Pipeline built by a call) is refused by its own name."""
    from sklearn.neighbors import KNeighborsClassifier

    knn = KNeighborsClassifier(n_neighbors=1, metric=os.system).fit(np.eye(3), [0, 1, 2])
    path = tmp_path / "knn.skops"
    skops.io.dump(knn, path)
    with pytest.raises(ModelFileError, match=r"refused: posix.system \(TypeNode\)"):
        load_model(path)
    # the Pipeline class itself, called with arguments from the file instead of rebuilt from state
    crafted = _with_extra_attribute(SHIPPED / resolve_model("logreg", SHIPPED)[0].name, tmp_path / "c.skops",
                                    _call("sklearn.pipeline.Pipeline", []))
    with pytest.raises(ModelFileError, match=r"sklearn.pipeline.Pipeline \(ConstructorFromReduceNode\)"):
        load_model(crafted)


def test_a_bare_model_file_is_type_checked_and_says_it_had_no_checksum(tmp_path, caplog):
    bare = tmp_path / "bare.skops"
    shutil.copy(resolve_model("logreg", SHIPPED)[0], bare)
    with caplog.at_level("WARNING"):
        model = load_model(bare)
    assert model.predict(np.zeros((1, 28, 28), np.uint8)).shape == (1,)
    assert "no checksum was available" in caplog.text


def test_the_shipped_models_load(tmp_path):
    for meta in list_models(SHIPPED):
        assert "error" not in meta, meta
        assert hasattr(load_model(meta["name"], directory=SHIPPED), "predict_proba")


def test_model_bytes_that_are_not_a_zip_are_refused():
    from workbench.store import model_types

    with pytest.raises(ModelFileError, match="model bytes is corrupt or not a skops file"):
        model_types(b"not a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps({"__loader__": "ObjectNode", "__class__": 3}))
    with pytest.raises(ModelFileError, match="a node without loader, module or class"):
        model_types(buffer.getvalue())


def test_save_model_still_round_trips(tmp_path, mnist_small):
    import workbench

    X, y, X_test, _ = mnist_small
    pipe = workbench.get_pipeline("logreg").fit(X[:300], y[:300])
    save_model(pipe, "small", directory=tmp_path)
    loaded = load_model("small", directory=tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(X_test), pipe.predict_proba(X_test))


# ---- metadata next to good models -------------------------------------------------------------------

def _odd_metadata(store: Path) -> dict[str, str]:
    """Hand-edited copies of logreg.json; returns each bad one's stem and what its error must say."""
    meta = json.loads((store / "logreg.json").read_text())
    (store / "logreg-backup.json").write_text(json.dumps(meta))  # same "name": listed as its own stem
    unnamed = dict(meta)
    del unnamed["name"]
    (store / "unnamed.json").write_text(json.dumps(unnamed))
    bad = {
        "test-null": ({**meta, "test": None}, '"test" must be an object'),
        "pipeline-null": ({**meta, "pipeline": None}, '"pipeline" must be a string'),
        "accuracy-text": ({**meta, "test": {**meta["test"], "accuracy": "0.92"}}, '"test.accuracy" must be a number'),
        "dots": ({**meta, "file": ".."}, '"file" must be the name of a .skops file'),
        "elsewhere": ({**meta, "file": "../models/logreg.skops"}, '"file" must be the name of a .skops file'),
        "sha-number": ({**meta, "sha256": 12345}, '"sha256" must be 64 lowercase hex digits'),
        "a-list": ([meta], "must hold a JSON object"),
    }
    for stem, (content, _) in bad.items():
        (store / f"{stem}.json").write_text(json.dumps(content))
    (store / "truncated.json").write_text(json.dumps(meta)[:40])
    return {stem: why for stem, (_, why) in bad.items()} | {"truncated": "cannot read model metadata"}


def test_odd_metadata_files_are_unreadable_entries_and_the_rest_is_listed(store, capsys):
    bad = _odd_metadata(store)
    listed = {m["name"]: m for m in list_models(store)}
    assert set(listed) == {"logreg", "logreg-backup", "unnamed", *bad}
    for stem, why in bad.items():
        assert why in listed[stem]["error"], (stem, listed[stem])
    for good in ("logreg", "logreg-backup", "unnamed"):
        assert "error" not in listed[good]
        assert load_model(good).predict(np.zeros((1, 28, 28), np.uint8)).shape == (1,)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("unreadable:") == len(bad)
    assert main(["models", "--json"]) == 0
    assert len([m for m in json.loads(capsys.readouterr().out) if m["source"] == "yours"]) == len(bad) + 3
    for stem, why in bad.items():
        assert main(["evaluate", stem]) == 1
        err = capsys.readouterr().err
        assert why in err and err.count("\n") == 1


def test_the_app_lists_odd_metadata_and_uses_the_good_models(store):
    """A backup copy with the same "name" once killed the app (duplicate DearPyGui tag)."""
    from workbench.live.catalogue import ModelCatalogue

    _odd_metadata(store)
    models = list_models(store)
    names = [m["name"] for m in models]
    assert len(names) == len(set(names))  # one tag per entry
    catalogue = ModelCatalogue()
    catalogue.load(models, store)
    catalogue.close()
    loaded, _ = catalogue.snapshot()
    usable = {name for name, model in loaded.items() if not isinstance(model, str)}
    assert usable >= {"logreg", "logreg-backup", "unnamed"}


def test_a_truncated_old_metadata_file_does_not_block_saving(store, mnist_small):
    import workbench

    X, y, _, _ = mnist_small
    (store / "logreg.json").write_text('{"name": "logreg", "fi')
    pipe = workbench.get_pipeline("logreg").fit(X[:200], y[:200])
    save_model(pipe, "logreg")
    assert load_model("logreg").predict(X[:3]).shape == (3,)

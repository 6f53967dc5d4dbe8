"""A user's own pipeline, in a folder of theirs: listed, fitted, cross-validated, compared (in
worker processes too) and served by `workbench predict` like a built-in one."""

import json
import os

import cv2
import numpy as np
import pytest

import workbench
import workbench.compare
import workbench.user_pipelines
from workbench.cli import main
from workbench.compare import Settings, compare
from workbench.registry import ENV, list_pipelines, pipeline_source, quick_pipelines, use_folders

POOLED_KNN = '''"""3-nearest-neighbours on 7x7 average-pooled pixels: a user's own pipeline."""

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from workbench.transforms import check_images

TRUSTED_TYPES = {("ObjectNode", "workbench.user_pipelines.pooled_knn.Pool")}


class Pool(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        images = check_images(X)
        return images.reshape(len(images), 7, 4, 7, 4).mean(axis=(2, 4)).reshape(len(images), -1)


def make_pipeline():
    return Pipeline([("pool", Pool()), ("clf", KNeighborsClassifier(n_neighbors=3))])
'''


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder with one user pipeline, registered for this test only."""
    folder = tmp_path / "my_pipelines"
    folder.mkdir()
    (folder / "pooled_knn.py").write_text(POOLED_KNN)
    monkeypatch.setenv(ENV, "")
    monkeypatch.setattr(workbench.user_pipelines, "__path__", list(workbench.user_pipelines.__path__))
    return folder


def test_a_user_pipeline_is_listed_with_where_it_comes_from(user_folder, capsys):
    assert "pooled_knn" not in list_pipelines()
    assert main(["--pipelines", str(user_folder), "list"]) == 0
    out = capsys.readouterr().out
    assert f"from {user_folder}:\n  pooled_knn" in out and out.startswith("built in (workbench.pipelines):\n  cnn")
    assert pipeline_source("pooled_knn") == str(user_folder / "pooled_knn.py")
    assert os.environ[ENV] == str(user_folder)  # worker processes see it too


def test_a_user_pipeline_is_fitted_compared_and_served(user_folder, models_dir, tmp_path, capsys):
    use_folders([user_folder])
    assert main(["fit", "pooled_knn", "--subset", "1000"]) == 0
    assert "pooled_knn: test accuracy" in capsys.readouterr().out
    tiny = Settings(folds=2, cv_subset=300, train_subset=500, test_subset=200, learning_sizes=(100,),
                    robustness_subset=50, latency_calls=5)
    c = compare(["pooled_knn", "logreg"], tiny, n_jobs=2, cache_dir=None)  # fits in worker processes
    assert np.mean(c.final["pooled_knn"]["pred"] == c.y_test) > 0.7 and len(c.cv[c.cv.pipeline == "pooled_knn"]) == 2
    page = np.full((120, 120), 255, np.uint8)
    cv2.putText(page, "7", (35, 95), cv2.FONT_HERSHEY_SIMPLEX, 3, 0, 9)
    cv2.imwrite(str(tmp_path / "seven.png"), page)
    assert main(["predict", "--model", "pooled_knn", str(tmp_path / "seven.png"), "--json",
                 "--log", str(tmp_path / "log.db")]) == 0
    reading = json.loads(capsys.readouterr().out)[0]
    assert len(reading["digits"]) == 1 and reading["text"] in "0123456789?"


def test_a_model_of_a_user_pipeline_is_refused_without_its_folder(user_folder, models_dir, capsys, monkeypatch):
    use_folders([user_folder])
    assert main(["fit", "pooled_knn", "--subset", "300"]) == 0
    monkeypatch.setattr(workbench.user_pipelines, "__path__", [])
    monkeypatch.setenv(ENV, "")
    assert main(["evaluate", "pooled_knn"]) == 1
    err = capsys.readouterr().err
    assert "workbench.user_pipelines.pooled_knn.Pool (ObjectNode)" in err and "--pipelines DIR" in err


def test_a_clash_with_a_built_in_name_and_a_broken_module_are_named(user_folder):
    (user_folder / "logreg.py").write_text('"""mine"""\ndef make_pipeline():\n    pass\n')
    use_folders([user_folder])
    with pytest.raises(ValueError, match=r"pipeline 'logreg' is defined twice: built-in and .*logreg.py"):
        list_pipelines()
    (user_folder / "logreg.py").unlink()
    (user_folder / "broken.py").write_text('"""broken"""\nimport no_such_module\n')
    with pytest.raises(ValueError, match=r"pipeline 'broken' \(.*broken.py\) could not be imported: "
                                         r"ModuleNotFoundError"):
        workbench.get_pipeline("broken")
    with pytest.raises(ValueError, match="pipelines folder .* does not exist"):
        use_folders([user_folder / "nowhere"])


def test_an_installed_plugin_registers_through_its_entry_point(tmp_path, monkeypatch, capsys):
    # What `pip install` of a package declaring [project.entry-points."workbench.pipelines"] leaves.
    (tmp_path / "plugged.py").write_text(POOLED_KNN.replace("workbench.user_pipelines.pooled_knn", "plugged"))
    info = tmp_path / "workbench_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: workbench-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[workbench.pipelines]\nplugged_knn = plugged\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "plugged_knn" in list_pipelines()
    assert pipeline_source("plugged_knn") == "plugin workbench-plugin (plugged)"
    assert main(["list"]) == 0
    assert "plugin workbench-plugin (plugged):\n  plugged_knn" in capsys.readouterr().out
    X, y = workbench.load_mnist("train", subset=300)
    assert workbench.get_pipeline("plugged_knn").fit(X, y).score(X, y) > 0.7


def test_quick_comparison_leaves_out_the_pipelines_that_say_so(user_folder, monkeypatch, capsys):
    (user_folder / "slow_knn.py").write_text(POOLED_KNN.replace("TRUSTED_TYPES", "QUICK = False\nTRUSTED_TYPES"))
    use_folders([user_folder])
    assert "slow_knn" not in quick_pipelines() and "pooled_knn" in quick_pipelines()
    assert {"cnn", "logreg"} <= set(quick_pipelines()) and not {"cnn_ensemble", "idm_knn"} & set(quick_pipelines())

    asked = []

    def no_work(names, *args, **kwargs):
        asked.append(list(names))
        raise KeyboardInterrupt  # stop before any work: the names are what this test is about

    monkeypatch.setattr(workbench.compare, "compare", no_work)
    for argv in (["compare", "--quick"], ["compare", "--quick", "slow_knn"], ["compare"]):
        with pytest.raises(KeyboardInterrupt):
            main(["--pipelines", str(user_folder), *argv])
    assert asked[0] == quick_pipelines() and asked[1] == ["slow_knn"] and asked[2] == list_pipelines()
    assert "--quick leaves out cnn_ensemble, idm_knn, slow_knn" in capsys.readouterr().err

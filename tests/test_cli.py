import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "logreg" in out and "cnn" in out and "linear baseline" in out


def test_fit_models_evaluate(models_dir, capsys):
    assert main(["fit", "logreg", "--subset", "500", "--name", "lr500", "--param", "clf__C=0.5"]) == 0
    out = capsys.readouterr().out
    assert "lr500: test accuracy" in out and "saved" in out
    meta = json.loads((models_dir / "lr500.json").read_text())
    assert meta["pipeline"] == "logreg" and meta["params"] == {"clf__C": 0.5}
    assert meta["training_data"]["n"] == 500 and len(meta["training_data"]["sha256"]) == 64
    assert meta["test"]["n"] == 10000 and meta["command"].startswith("workbench fit logreg")
    assert meta["description"] == ("Logistic regression on the 784 pixels scaled to [0, 1]: the linear baseline "
                                   "(with clf__C=0.5; trained on 500 MNIST images).")

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "lr500" in out and "  Logistic regression on the 784 pixels" in out

    assert main(["evaluate", "lr500", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "lr500" and result["n"] == 10000
    assert result["accuracy"] == pytest.approx(meta["test"]["accuracy"])
    assert 0.8 < result["accuracy"] < 1 and 0.8 < result["macro_f1"] < 1


def test_the_shipped_models_are_the_ones_to_use_each_described(monkeypatch, capsys):
    """models/ ships what a user should use (no experiments), and says what each one is."""
    from workbench.store import list_models

    monkeypatch.delenv("WORKBENCH_MODELS", raising=False)
    shipped = list_models()
    assert sorted(m["name"] for m in shipped) == ["cnn", "cnn_ensemble", "logreg"]
    assert all(len(m["description"]) > 20 and "error" not in m for m in shipped)
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for meta in shipped:
        assert f"  {meta['description']}" in out


def test_cv_prints_a_table(capsys):
    assert main(["cv", "logreg", "pca_knn", "--folds", "3", "--subset", "300"]) == 0
    out = capsys.readouterr().out
    assert "3-fold stratified CV on 300 training images" in out
    for column in ("accuracy", "macro F1", "fit s", "score s", "logreg", "pca_knn"):
        assert column in out
    rows = [line for line in out.splitlines() if line.startswith(("logreg", "pca_knn"))]
    assert len(rows) == 2 and all(row.count("±") == 4 for row in rows)
    assert main(["cv", "logreg", "--folds", "2", "--subset", "200", "--json"]) == 0
    captured = capsys.readouterr()
    # stderr is not a terminal here: one line per finished fit, with the time left; JSON stays clean
    lines = captured.err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("cv: 1/2 done (logreg fold ") and "left" in lines[0]
    assert lines[1].startswith("cv: 2/2 done") and "so far" in lines[1]
    rows = json.loads(captured.out)
    assert rows[0]["pipeline"] == "logreg" and 0 < rows[0]["accuracy_mean"] <= 1


def test_search_ranks_every_setting(capsys):
    assert main(["search", "pca_knn", "--param", "clf__n_neighbors=1,3,5", "--folds", "3", "--subset", "300"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3-fold stratified CV of 3 settings of pca_knn")
    ranks = [int(line.split()[0]) for line in out.splitlines()[2:]]
    assert len(ranks) == 3 and ranks == sorted(ranks) and ranks[0] == 1  # best first (ties share a rank)
    assert main(["search", "pca_knn", "--param", "clf__n_neighbors=1,3,5", "--param", "pca__n_components=10,20",
                 "--random", "2", "--folds", "2", "--subset", "300", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and {"fold0", "fold1", "accuracy_mean", "clf__n_neighbors"} <= rows[0].keys()
    assert main(["search", "pca_knn", "--param", "clf__k=1,2"]) == 2
    assert "pca_knn has no parameter 'clf__k'; it has: " in capsys.readouterr().err
    assert main(["search", "pca_knn", "--param", "clf__n_neighbors"]) == 2
    assert "KEY=V1,V2" in capsys.readouterr().err


def test_search_scores_what_sklearns_search_scores_and_shows_progress(capsys):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    import workbench
    from workbench.evaluate import search

    grid = {"clf__n_neighbors": [1, 3, 5], "pca__n_components": [10, 20]}
    table = search("pca_knn", grid, folds=3, subset=400, progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 6 * 3 and lines[-1].startswith("search: 18/18 done (setting ") and "left" in lines[0]
    X, y = workbench.load_mnist("train", subset=400)
    reference = GridSearchCV(workbench.get_pipeline("pca_knn"), grid, scoring="accuracy", refit=False,
                             cv=StratifiedKFold(3, shuffle=True, random_state=0)).fit(X, y).cv_results_
    expected = {(p["clf__n_neighbors"], p["pca__n_components"]): (m, r) for p, m, r in
                zip(reference["params"], reference["mean_test_score"], reference["rank_test_score"], strict=True)}
    for row in table.itertuples():
        mean, rank = expected[(row.clf__n_neighbors, row.pca__n_components)]
        assert row.accuracy_mean == pytest.approx(mean) and row.rank == rank


def test_errors_are_one_clear_line(models_dir, capsys):
    assert main(["fit", "nonexistent"]) == 2
    assert "unknown pipeline 'nonexistent'" in capsys.readouterr().err
    assert main(["evaluate", "ghost"]) == 1  # no such model file
    assert "no model 'ghost'" in capsys.readouterr().err
    assert main(["cv", "logreg", "--folds", "1"]) == 2
    assert "folds must be at least 2" in capsys.readouterr().err
    assert main(["fit", "logreg", "--param", "novalue"]) == 2
    assert "--param takes KEY=VALUE" in capsys.readouterr().err


def test_installed_console_script():
    exe = shutil.which("workbench") or str(__import__("pathlib").Path(sys.executable).with_name("workbench"))
    proc = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for command in ("list", "models", "fit", "cv", "evaluate"):
        assert command in proc.stdout


def test_a_network_fit_shows_its_epochs_off_a_terminal(models_dir, capsys):
    assert main(["fit", "cnn", "--subset", "300", "--param", "clf__epochs=2", "--param", "clf__filters1=4",
                 "--param", "clf__filters2=4", "--param", "clf__filters3=8", "--name", "tiny"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "fitting and scoring cnn ..." and err[-1].startswith("fitting and scoring cnn: done in")
    assert err[1].startswith("epochs: 1/2 done (loss ") and "about" in err[1] and err[2].startswith("epochs: 2/2")
    from workbench.store import load_model

    assert load_model("tiny").named_steps["clf"].verbose == 0  # the saved model stays quiet


def test_version_names_the_workbench_and_its_libraries(capsys):
    from importlib.metadata import version

    import workbench

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    out = capsys.readouterr().out.strip()
    assert exit_.value.code == 0 and "\n" not in out
    assert out.startswith(f"workbench {workbench.__version__} (keras {version('keras')} on jax {version('jax')}")
    assert version("digit-workbench") == workbench.__version__  # the package's version comes from one place


@pytest.mark.parametrize("command", ["list", "models", "fit", "cv", "search", "compare", "evaluate", "predict", "log",
                                     "adapt", "import", "export", "app"])
def test_every_command_has_help_with_an_example_that_parses(command, capsys):
    import shlex

    from workbench.cli import COMMANDS, build_parser

    example = COMMANDS[command][1]
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and f"example:\n  {example}" in out
    args = build_parser().parse_args(shlex.split(example)[1:])
    assert args.command == command


def test_predict_says_where_it_logs_and_no_log_logs_nothing(tmp_path, capsys):
    digit = Path(__file__).resolve().parents[1] / "docs" / "examples" / "drawing.png"
    log = tmp_path / "log.sqlite"
    assert main(["predict", "--model", "logreg", "--no-log", "--log", str(log), str(digit)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().endswith(": 7") and "logged to" not in captured.err and not log.exists()
    assert main(["predict", "--model", "logreg", "--log", str(log), str(digit)]) == 0
    assert f"(logged to {log}: workbench log to see or correct them" in capsys.readouterr().err and log.exists()

"""Fitting, scoring and cross-validation of named pipelines. Functions return data and print
nothing; the command line formats what they return."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from workbench.data import dataset_checksum, load_mnist
from workbench.distributed import cluster
from workbench.progress import Progress
from workbench.registry import get_pipeline


def score(model, X, y) -> dict:
    """Accuracy and macro F1 of a fitted model on ``(X, y)``, with the prediction time.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``macro_f1``, ``predict_seconds``.
    """
    start = time.perf_counter()
    pred = model.predict(X)
    seconds = time.perf_counter() - start
    return {
        "n": int(len(y)),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, average="macro")),
        "predict_seconds": round(seconds, 3),
    }


def fit_pipeline(
    name: str,
    *,
    params: dict | None = None,
    subset: int | None = None,
    random_state: int = 0,
    data_path: str | Path | None = None,
    progress: bool = False,
) -> tuple[object, dict]:
    """Fit a named pipeline on the MNIST training split and score it on the test split.

    Parameters
    ----------
    name : str
        A registered pipeline (see :func:`workbench.list_pipelines`).
    params : dict, optional
        Parameter overrides, sklearn ``step__param`` names.
    subset : int, optional
        Train on a stratified subset of this many training images (the test split is whole).
    random_state : int, default=0
        Seed of the subset draw.
    data_path : path, optional
        A directory of MNIST IDX files or a keras ``mnist.npz`` instead of the vendored copy.
    progress : bool, default=False
        Show the progress of the networks' epochs on stderr (a bar on a terminal, else a line
        per epoch with the time left); the saved pipeline keeps them quiet.

    Returns
    -------
    pipeline : fitted Pipeline
    metadata : dict
        Pipeline name and parameters, training data (size, checksum), test metrics, fit time:
        ready for :func:`workbench.save_model`.

    Examples
    --------
    >>> pipe, meta = fit_pipeline("logreg", subset=1000)        # doctest: +SKIP
    >>> round(meta["test"]["accuracy"], 2)                       # doctest: +SKIP
    0.85
    """
    pipe = get_pipeline(name, **(params or {}))
    X, y = load_mnist("train", subset=subset, random_state=random_state, path=data_path)
    X_test, y_test = load_mnist("test", path=data_path)
    cnns = networks(pipe)
    for network in cnns if progress else []:
        network.set_params(verbose=1)
    start = time.perf_counter()
    pipe.fit(X, y)
    fit_seconds = time.perf_counter() - start
    for network in cnns:
        network.set_params(verbose=0)
    test = score(pipe, X_test, y_test)
    from workbench.registry import pipeline_summary

    changed = ", ".join(f"{key}={value!r}" for key, value in (params or {}).items())
    trained_on = f"trained on {len(y):,} MNIST images" if subset else "trained on all MNIST training images"
    return pipe, {
        "pipeline": name,
        "description": (f"{pipeline_summary(name).rstrip('.')} ({f'with {changed}; ' if changed else ''}"
                        f"{trained_on})."),
        "params": params or {},
        "estimator": repr(pipe),
        "training_data": {
            "source": str(data_path) if data_path else "vendored MNIST",
            "split": "train",
            "n": int(len(y)),
            "subset": subset,
            "random_state": random_state,
            "sha256": dataset_checksum(X, y),
        },
        "test": {**test, "sha256": dataset_checksum(X_test, y_test)},
        "fit_seconds": round(fit_seconds, 2),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": _cpu_name()},
    }


def _cpu_name() -> str:
    """The CPU model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def networks(pipe) -> list:
    """The ``CNNClassifier`` steps of a pipeline, at any depth (they report their epochs)."""
    from workbench.cnn import CNNClassifier

    return [v for v in pipe.get_params(deep=True).values() if isinstance(v, CNNClassifier)]


def cv_splits(y: np.ndarray, folds: int, random_state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train, test)`` indices of stratified, shuffled K-fold CV: the same folds for
    :func:`cross_validate`, :func:`search` and the comparison, given the same labels and seed."""
    return list(StratifiedKFold(folds, shuffle=True, random_state=random_state).split(np.zeros(len(y)), y))


def _fit_fold(pipe, X, y, train, test, name, fold) -> dict:
    start = time.perf_counter()
    pipe.fit(X[train], y[train])
    fit_time = time.perf_counter() - start
    result = score(pipe, X[test], y[test])
    return {
        "pipeline": name,
        "fold": fold,
        "n_train": int(len(train)),
        "n_test": result["n"],
        "accuracy": result["accuracy"],
        "macro_f1": result["macro_f1"],
        "fit_time": fit_time,
        "score_time": result["predict_seconds"],
    }


def cross_validate(
    names: list[str],
    *,
    folds: int = 5,
    subset: int | None = None,
    n_jobs: int | None = None,
    random_state: int = 0,
    progress: bool = False,
    data_path: str | Path | None = None,
    scheduler: str | None = None,
) -> pd.DataFrame:
    """Stratified K-fold cross-validation of named pipelines on the MNIST training split.

    Every pipeline sees the same folds. Fits run in parallel with joblib (``n_jobs``), or on
    the Dask cluster at ``scheduler`` (or ``$WORKBENCH_SCHEDULER``; see
    :mod:`workbench.distributed`), with the same folds and the same scores.

    Returns
    -------
    DataFrame
        One row per pipeline and fold: ``pipeline, fold, n_train, n_test, accuracy,
        macro_f1, fit_time, score_time`` (times in seconds).

    Examples
    --------
    >>> df = cross_validate(["logreg", "pca_knn"], folds=3, subset=600)   # doctest: +SKIP
    >>> summarize_cv(df)                                                   # doctest: +SKIP
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    pipes = {name: get_pipeline(name) for name in names}  # unknown names fail before any work
    X, y = load_mnist("train", subset=subset, random_state=random_state, path=data_path)
    splits = cv_splits(y, folds, random_state)
    jobs = [
        delayed(_fit_fold)(clone(pipes[name]), X, y, train, test, name, k)
        for name in names
        for k, (train, test) in enumerate(splits)
    ]
    rows = []
    with cluster(scheduler, scatter=[X, y]), Progress(len(jobs), "cv", enabled=progress) as bar:
        for row in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
            rows.append(row)
            bar.update(f"{row['pipeline']} fold {row['fold']}")
    return pd.DataFrame(rows).sort_values(["pipeline", "fold"], ignore_index=True)


def search(
    name: str,
    grid: dict[str, list],
    *,
    random: int | None = None,
    folds: int = 5,
    subset: int | None = None,
    n_jobs: int | None = None,
    random_state: int = 0,
    data_path: str | Path | None = None,
    scheduler: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Grid (or randomised) search over a named pipeline's parameters, scored by stratified
    K-fold CV accuracy with the same folds as :func:`cross_validate`.

    Parameters
    ----------
    name : str
        A registered pipeline.
    grid : dict
        sklearn parameter names to lists of values, e.g. ``{"clf__C": [1, 10]}``.
    random : int, optional
        Try this many settings drawn at random (``ParameterSampler``, as
        ``RandomizedSearchCV`` draws them, seeded by ``random_state``) instead of every
        combination (``ParameterGrid``, as ``GridSearchCV``).
    scheduler : str, optional
        Run the fits on this Dask scheduler (see :mod:`workbench.distributed`).
    progress : bool, default=False
        One line per finished fit on stderr (a bar on a terminal).

    Returns
    -------
    DataFrame
        One row per setting, best first: ``rank``, one column per parameter,
        ``accuracy_mean``, ``accuracy_std``, ``fit_time``, and ``fold<k>`` scores.

    Examples
    --------
    >>> search("pca_knn", {"clf__n_neighbors": [1, 3, 5]}, folds=3, subset=600)   # doctest: +SKIP
    """
    from sklearn.model_selection import ParameterGrid, ParameterSampler

    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    if not grid or any(not isinstance(v, list) or not v for v in grid.values()):
        raise ValueError("give each parameter a non-empty list of values, e.g. {'clf__C': [1, 10]}")
    pipe = get_pipeline(name)
    valid = pipe.get_params()
    unknown = [key for key in grid if key not in valid]
    if unknown:
        raise ValueError(f"{name} has no parameter {', '.join(map(repr, unknown))}; "
                         f"it has: {', '.join(k for k in valid if '__' in k)}")
    X, y = load_mnist("train", subset=subset, random_state=random_state, path=data_path)
    splits = cv_splits(y, folds, random_state)
    # What GridSearchCV / RandomizedSearchCV would try, fitted here fold by fold so that each
    # finished fit shows as progress; a value the estimator refuses raises its own error.
    settings = list(ParameterGrid(grid) if random is None
                    else ParameterSampler(grid, random, random_state=random_state))
    jobs = [delayed(_fit_fold)(clone(pipe).set_params(**params), X, y, train, test, i, k)
            for i, params in enumerate(settings) for k, (train, test) in enumerate(splits)]
    scores = np.zeros((len(settings), folds))
    fit_times = np.zeros((len(settings), folds))
    with cluster(scheduler, scatter=[X, y]), Progress(len(jobs), "search", enabled=progress) as bar:
        for row in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
            i, k = row["pipeline"], row["fold"]
            scores[i, k], fit_times[i, k] = row["accuracy"], row["fit_time"]
            bar.update(f"setting {i + 1} fold {k}")
    table = pd.DataFrame([{key: params[key] for key in grid} for params in settings])
    table["accuracy_mean"], table["accuracy_std"] = scores.mean(axis=1), scores.std(axis=1)
    table.insert(0, "rank", table["accuracy_mean"].rank(method="min", ascending=False).astype(int))
    table["fit_time"] = fit_times.mean(axis=1)
    for k in range(folds):
        table[f"fold{k}"] = scores[:, k]
    return table.sort_values(["rank", "accuracy_mean"], ascending=[True, False], ignore_index=True)


def summarize_cv(results: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation per pipeline of each metric in :func:`cross_validate`'s rows,
    best accuracy first."""
    metrics = ["accuracy", "macro_f1", "fit_time", "score_time"]
    summary = results.groupby("pipeline")[metrics].agg(["mean", "std"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    return summary.sort_values("accuracy_mean", ascending=False)


def evaluate_model(model, *, data_path: str | Path | None = None) -> dict:
    """Score a fitted model on the whole MNIST test split (see :func:`score`)."""
    X, y = load_mnist("test", path=data_path)
    return score(model, X, y)


"""Adapt a fitted model to its user: learn from the corrections in the prediction log.

The prediction log keeps every digit the model read with the 28x28 image it saw and, once the
user says so, the right label (:meth:`workbench.live.log.PredictionLog.corrections`). A model
adapted to those corrections reads *that user's* handwriting better while MNIST stays read as
before:

- a network (a pipeline ending in :class:`~workbench.cnn.CNNClassifier`, or in an ensemble of
  them, each member in turn) is fine-tuned from its current weights (warm start) for a few
  epochs on the corrections, repeated, mixed with MNIST training images replayed so that it
  does not forget MNIST;
- any other pipeline is refitted on the MNIST training split plus the corrections, each
  correction repeated (a weight that works for every classifier, k-NN included).

Every labelled record teaches the model: a correction (the model was wrong) and a confirmation
(the user gave the label the model read) alike, each counted the same. What adapting does to
the user's own digits is measured first, by an adaptation that holds a share of them out
(:func:`adapt_from_log`); the model kept is adapted again on all of them.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

MIN_CORRECTIONS = 5  # fewer cannot be split into a part to learn from and a part to check on


class AdaptError(ValueError):
    """The corrections cannot adapt this model (too few, unknown labels); says why."""


def split_corrections(X, y, *, holdout: float = 0.25, random_state: int = 0):
    """Split the corrections into a part to adapt on and a held-out part to score on.

    Stratified by label when every label has two corrections or more. Returns
    ``X_fit, y_fit, X_held, y_held``.
    """
    X, y = np.asarray(X), np.asarray(y)
    if len(y) < MIN_CORRECTIONS:
        raise AdaptError(f"adapting needs at least {MIN_CORRECTIONS} corrected records, the log has {len(y)}: "
                         "correct the model's mistakes first (the app's Teach buttons, or "
                         "`workbench log --correct ID=DIGIT`)")
    n_held = max(1, int(round(holdout * len(y))))
    labels, counts = np.unique(y, return_counts=True)
    can_stratify = counts.min() >= 2 and min(n_held, len(y) - n_held) >= len(labels)
    stratify = y if can_stratify else None
    X_fit, X_held, y_fit, y_held = train_test_split(X, y, test_size=n_held, random_state=random_state,
                                                    stratify=stratify)
    return X_fit, y_fit, X_held, y_held


def _networks(pipeline) -> list:
    """The fitted CNNClassifiers a pipeline ends with: the network itself, or every member of
    an ensemble of them (``VotingClassifier``, as ``cnn_ensemble``); empty for anything else."""
    from workbench.cnn import CNNClassifier

    last = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    if isinstance(last, CNNClassifier):
        return [last]
    members = getattr(last, "estimators_", None) or []
    return list(members) if members and all(isinstance(m, CNNClassifier) for m in members) else []


def nearest(X, X_pool, k: int) -> np.ndarray:
    """Indices into ``X_pool`` of the ``k`` images nearest (in pixels) to each image of ``X``
    (each index once)."""
    a = X.reshape(len(X), -1).astype(np.float32)
    b = X_pool.reshape(len(X_pool), -1).astype(np.float32)
    distances = (b * b).sum(1)[None, :] - 2 * a @ b.T  # |a|^2 is the same along each row
    return np.unique(np.argpartition(distances, k, axis=1)[:, :k])


def confusable(X, y, X_train, y_train, k: int) -> np.ndarray:
    """Indices of the training images of *other* classes nearest (in pixels) to each image of
    ``X`` (``k`` for each, each index once): the MNIST digits a correction could be confused
    with (a closed 4 and MNIST's 9s), which must keep their own labels."""
    found = []
    for label in np.unique(y):
        others = np.flatnonzero(y_train != label)
        found.append(others[nearest(X[y == label], X_train[others], min(k, len(others) - 1))])
    return np.unique(np.concatenate(found))


def adapt(pipeline, X, y, *, X_train, y_train, repeats: int = 80, replay: int = 10_000, neighbours: int = 50,
          neighbour_repeats: int = 2, epochs: int = 3, learning_rate: float = 3e-4, layers: str = "all",
          random_state: int = 0):
    """A copy of ``pipeline`` adapted to the corrections ``(X, y)``; ``pipeline`` is unchanged.

    Parameters
    ----------
    pipeline : fitted Pipeline or estimator
        Its input: MNIST-format images ``(n, 28, 28)``, as the prediction log stores them.
    X, y : the corrections to learn from (images and their right labels).
    X_train, y_train : the MNIST training split
        Any pipeline but a network is refitted on all of it plus the corrections.
    repeats : int, default=80
        Each correction counts as this many training images.
    replay : int, default=10000
        A network is fine-tuned on this many random MNIST training images plus the corrections...
    neighbours, neighbour_repeats : int, default=50, 2
        ...plus, for each correction, the ``neighbours`` training images of *other* classes
        nearest to it in pixels (:func:`confusable`), each ``neighbour_repeats`` times: the
        MNIST digits a correction could be confused with (a closed 4 and MNIST's 9s) keep their
        own labels, which is what keeps MNIST accuracy when the user's style looks like
        another digit.
    epochs, learning_rate : int, float, default=3, 3e-4
        Fine-tuning of a network: epochs over that mix, peak learning rate (cosine schedule).
    layers : {"all", "dense"}, default="all"
        Which layers of a network learn: all, or only those after the convolutions (2.2x
        faster, but it learnt less of a barred 7 and a crossed 2 and cost MNIST more for a
        closed 4).
    random_state : int, default=0

    Returns
    -------
    The adapted pipeline (a new object).

    Notes
    -----
    The defaults are measured (``benchmarks/adapt.py``, docs/learning-from-the-user.md): on
    simulated writers with 60 labelled digits, against the recipe before (x40, 40,000
    replayed, 100 nearest of any class x3, peak 1e-4), which learnt a closed 4 to 85% at
    192 s a fit, these learn it to 91% in 73 s, so that the measuring adaptation and the
    final one together fit in three minutes on 2 cores.
    """
    if layers not in ("all", "dense"):
        raise ValueError(f"layers must be 'all' or 'dense', got {layers!r}")
    X, y = np.asarray(X), np.asarray(y)
    classes = getattr(pipeline, "classes_", None)
    if classes is not None and not np.isin(y, classes).all():
        raise AdaptError(f"corrections with labels {sorted(set(y.tolist()) - set(classes.tolist()))} "
                         f"that the model does not know ({classes.tolist()})")
    if not _networks(pipeline):
        X_all = np.concatenate([X_train, np.repeat(X, repeats, axis=0)])
        y_all = np.concatenate([y_train, np.repeat(y, repeats)])
        return clone(pipeline).fit(X_all, y_all)
    rng = np.random.default_rng(random_state)
    picked = rng.choice(len(y_train), min(replay, len(y_train)), replace=False)
    near = np.zeros(0, int)
    if neighbours:
        near = np.repeat(confusable(X, y, X_train, y_train, neighbours), neighbour_repeats)
    X_all = np.concatenate([X_train[picked], X_train[near], np.repeat(X, repeats, axis=0)])
    y_all = np.concatenate([y_train[picked], y_train[near], np.repeat(y, repeats)])
    adapted = copy.deepcopy(pipeline)  # the weights come along (clone would drop them)
    front = adapted[:-1] if hasattr(adapted, "steps") and len(adapted) > 1 else None
    images = front.transform(X_all) if front is not None else X_all
    last = adapted[-1] if hasattr(adapted, "steps") else adapted
    labels = last.le_.transform(y_all) if hasattr(last, "le_") else y_all  # an ensemble's members learnt encoded labels
    for clf in _networks(adapted):
        clf.set_params(warm_start=True, epochs=epochs, learning_rate=learning_rate, lr_schedule="cosine",
                       random_state=random_state, verbose=0)
        frozen = []
        if layers == "dense":  # the convolutions keep their weights, the layers after them learn
            from workbench.backend import keras

            flat = [isinstance(layer, keras.layers.Flatten) for layer in clf.model_.layers]
            frozen = clf.model_.layers[: flat.index(True)]
        for layer in frozen:
            layer.trainable = False
        clf.fit(images, labels)
        for layer in frozen:
            layer.trainable = True
    return adapted


def accuracy(model, X, y) -> float | None:
    return float(np.mean(model.predict(X) == y)) if len(y) else None


def describe(corrections: dict) -> str:
    """"60 labelled digits (41 corrections, 19 confirmations)" from a report's ``corrections``."""
    n, confirmed = corrections["used"], corrections.get("confirmations")
    text = f"{n} labelled digit{'s' * (n != 1)}"
    return text if confirmed is None else f"{text} ({n - confirmed} corrections, {confirmed} confirmations)"


def adapt_from_log(pipeline, X, y, *, X_train, y_train, X_test, y_test, holdout: float = 0.25,
                   random_state: int = 0, status=None, **options) -> tuple[object, dict]:
    """Measure what adapting does on corrections it did not see, then adapt on all of them.

    A first adaptation learns from all but a held-out share of the corrections
    (:func:`split_corrections`) and is scored on that share, before and after: how the writer's
    digits the model has not seen fare. The model returned is then adapted afresh from
    ``pipeline`` on *every* correction, and scored on the MNIST test split. Two adaptations
    cost twice the time; a writer who labelled 60 digits teaches the model with 60, not 45.

    ``X_train, y_train``: the MNIST training split; ``X_test, y_test``: the MNIST test split.
    ``status``: called with a short text at each stage. ``options`` go to :func:`adapt`.

    Returns the adapted pipeline and a report: the corrections learnt from (all), the
    held-out measure (``held_out_accuracy``: before/after and how many were held out and
    learnt from), MNIST test accuracy before and after, seconds, and under ``"test"`` the
    adapted model's :func:`workbench.evaluate.score` on the test split.
    """
    from workbench.evaluate import score

    status = status or (lambda text: None)
    X, y = np.asarray(X), np.asarray(y)
    X_fit, y_fit, X_held, y_held = split_corrections(X, y, holdout=holdout, random_state=random_state)
    start = time.perf_counter()
    status(f"measuring: adapting on {len(y_fit)} corrections, scoring on the {len(y_held)} held out...")
    measured = adapt(pipeline, X_fit, y_fit, X_train=X_train, y_train=y_train, random_state=random_state,
                     **options)
    held = {"before": accuracy(pipeline, X_held, y_held), "after": accuracy(measured, X_held, y_held),
            "held_out": int(len(y_held)), "learnt_from": int(len(y_fit))}
    del measured
    status(f"adapting on all {len(y)} corrections...")
    adapted = adapt(pipeline, X, y, X_train=X_train, y_train=y_train, random_state=random_state, **options)
    seconds = time.perf_counter() - start
    status("scoring on the MNIST test split...")
    test = score(adapted, X_test, y_test)  # the adapted model predicts the test split once
    report = {
        "corrections": {"used": int(len(y)),
                        "labels": {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True), strict=True)}},
        "method": "fine-tuning with MNIST replay" if _networks(pipeline) else "refit on MNIST + corrections",
        "held_out_accuracy": held,
        "mnist_test_accuracy": {"before": accuracy(pipeline, X_test, y_test), "after": test["accuracy"],
                                "n": test["n"]},
        "adapt_seconds": round(seconds, 1),
        "test": test,
    }
    return adapted, report


def adapt_saved(model: str | Path, *, log: str | Path | None = None, name: str | None = None,
                directory: str | Path | None = None, data_path: str | Path | None = None, command: str | None = None,
                status=None) -> tuple[Path, dict]:
    """Adapt a saved model to the corrections of a prediction log and save the result beside it.

    Parameters
    ----------
    model : a saved model's name, or the path of its ``.json``/``.skops`` file
    log : the prediction log (default: the app's, :func:`workbench.live.log.default_log_path`)
    name : the new model's name (default: ``<model>-adapted``); never the model's own name, so
        the original stays to go back to
    directory : the models folder when ``model`` is a name (default: the project's)
    data_path : MNIST elsewhere than the vendored copy
    command : the command line, recorded in the metadata
    status : callable, optional
        Called with a short text at each stage (the app shows it).

    Returns
    -------
    The new model's metadata file and the adaptation report (also in the metadata, under
    ``"adaptation"``).
    """
    from workbench.data import load_mnist
    from workbench.live.log import PredictionLog
    from workbench.store import check_model_name, load_model_file, resolve_model, save_model, sha256_file

    status = status or (lambda text: None)
    path, meta = resolve_model(model, directory)
    old_name = meta.get("name", path.stem.rsplit("-", 1)[0])
    name = check_model_name(name or f"{old_name}-adapted")
    if name == old_name:
        raise AdaptError(f"the adapted model cannot replace {old_name!r}, which it is adapted from: "
                         "choose another name (the original stays to go back to)")
    with PredictionLog(log, create=False) as prediction_log:  # adapting never makes a log
        X, y = prediction_log.corrections()
        confirmations = prediction_log.count_confirmations()
        log_path = prediction_log.path
    status(f"{len(y)} labelled records in {log_path} ({confirmations} confirm the model's answer)")
    pipeline = load_model_file(path, meta.get("sha256"))
    X_train, y_train = load_mnist("train", path=data_path)
    X_test, y_test = load_mnist("test", path=data_path)
    adapted, report = adapt_from_log(pipeline, X, y, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
                                     status=status)
    report["corrections"]["confirmations"] = confirmations
    status("saving")
    test = report.pop("test")  # the metadata's own "test", as every saved model has
    metadata = {
        "pipeline": meta.get("pipeline", "?"),
        "description": f"{old_name} adapted to {describe(report['corrections'])} from the prediction log.",
        "params": meta.get("params", {}),
        "adapted_from": {"name": old_name, "sha256": meta.get("sha256") or sha256_file(path), "log": str(log_path)},
        "adaptation": report,
        "training_data": {**meta.get("training_data", {}), "corrections": report["corrections"]["used"]},
        "test": test,
        "fit_seconds": report["adapt_seconds"],
        "command": command or f"adapt_saved({str(model)!r})",
    }
    return save_model(adapted, name, metadata=metadata, directory=directory), report  # None: the user's models

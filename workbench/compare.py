"""The comparison behind ``workbench compare``: every chosen pipeline cross-validated, fitted,
scored on the test split, timed, and tried on corrupted digits and on the user's own
handwriting. :func:`compare` returns a :class:`Comparison` (data only); :mod:`workbench.report`
turns it into the report.

Work is split into tasks (one CV fold, one learning-curve point, one final fit and its
assessment) that run in parallel with joblib and are cached on disk with ``joblib.Memory``:
a rerun computes only what changed (the pipeline's parameters or code, the data, the
settings). The cache holds pickles written by this program; it lives in
``<out>/.cache/code-<fingerprint>``, one folder per version of the code that computed it
(:func:`code_fingerprint`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from joblib import Memory, Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from workbench.corruptions import CORRUPTIONS, corrupt
from workbench.data import dataset_checksum, load_mnist
from workbench.distributed import cluster
from workbench.evaluate import _cpu_name, _fit_fold, cv_splits
from workbench.gate_training import non_digit_sample
from workbench.live.gate import refused
from workbench.progress import Progress
from workbench.registry import get_pipeline, list_pipelines


@dataclass(frozen=True)
class Settings:
    """How much data each part of the comparison uses. ``None`` means the whole split.

    The default is the full comparison, made to run in under an hour on two cores: the final
    fit on all 60,000 training images (a shipped model of the same pipeline and data is scored
    as shipped, not refitted: ``cnn``, ``cnn_ensemble``, ``logreg``), scoring on all 10,000 test
    images; 5-fold CV on a stratified 3,000-image subset of the training split, learning curves at
    1,000 and 2,500 images, robustness on 500 test digits per corruption level (5-fold CV on
    10,000 and robustness on 2,000 took 2 h 44 min, most of it the three-network ensemble's folds
    and the IDM kNN's 60,000 corrupted digits).
    """

    folds: int = 5
    cv_subset: int | None = 3000
    train_subset: int | None = None
    test_subset: int | None = None
    learning_sizes: tuple[int, ...] = (1000, 2500)
    robustness_subset: int = 500
    latency_calls: int = 300
    non_digits: int = 250  # of each kind (workbench.gate_training.non_digit_sample)
    random_state: int = 0


FULL = Settings()
#: ``--quick``: stratified subsets small enough for every pipeline to finish in minutes.
QUICK = Settings(folds=3, cv_subset=2000, train_subset=5000, test_subset=2000,
                 learning_sizes=(500, 1000, 2000), robustness_subset=500, latency_calls=100, non_digits=100)


@dataclass
class Comparison:
    """Everything :func:`compare` measured; :mod:`workbench.report` writes it out."""

    names: list[str]
    settings: Settings
    cv: pd.DataFrame            # pipeline, fold, n_train, n_test, accuracy, macro_f1, fit_time, score_time
    final: dict[str, dict]      # per pipeline: fit, test predictions and probabilities, timings, size
    learning: pd.DataFrame      # pipeline, n_train, accuracy, fit_time
    robustness: pd.DataFrame    # pipeline, kind, level, accuracy
    user: pd.DataFrame | None   # pipeline, n, accuracy on corrected log records (None: no corrections)
    X_test: np.ndarray
    y_test: np.ndarray
    environment: dict = field(default_factory=dict)


# ---- the cache's key for the code ---------------------------------------------------------

# Modules that show results and run no task: a change to how the report is drawn, to the
# progress line, the command line or the app recomputes nothing (the report is rendered again
# from the cache in seconds).
PRESENTATION = ("report.py", "progress.py", "cli.py", "explain.py", "app/")


def code_fingerprint(pipes, root: Path | None = None) -> str:
    """12 hex digits of SHA-256 over the workbench's source files (``root``, default the
    installed package; not the :data:`PRESENTATION` modules) and the source files of the
    pipelines' own classes defined elsewhere (a user's transformer; not the libraries in
    site-packages).

    ``joblib.Memory`` keys a result by its task function's code and its arguments; a pipeline
    is hashed by its parameters, and its classes by name, not code. A change to the normaliser
    or the CNN's code would otherwise leave the old results in the cache, served as new.
    """
    root = Path(__file__).parent if root is None else Path(root)
    files = {path: path.relative_to(root).as_posix() for path in root.rglob("*.py")}
    files = {path: name for path, name in files.items() if not name.startswith(PRESENTATION)}
    for pipe in pipes:
        for obj in [pipe, *pipe.get_params(deep=True).values()]:
            module = sys.modules.get(type(obj).__module__)
            source = getattr(module, "__file__", None)
            if source and "site-packages" not in Path(source).parts and Path(source).suffix == ".py":
                source = Path(source).resolve()
                if not source.is_relative_to(root.resolve()) and not source.is_relative_to(Path(sys.base_prefix)):
                    files[source] = f"{type(obj).__module__}.py"
    digest = hashlib.sha256()
    for path, name in sorted(files.items(), key=lambda item: item[1]):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def _cache_folder(cache_dir: str | Path, fingerprint: str) -> str:
    """``cache_dir/code-<fingerprint>``, created; the folders of other code versions in
    ``cache_dir`` are removed (their results are not reused, and each can take gigabytes)."""
    cache_dir = Path(cache_dir).resolve()
    folder = cache_dir / f"code-{fingerprint}"
    folder.mkdir(parents=True, exist_ok=True)
    for other in cache_dir.glob("code-*"):
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    return str(folder)


# ---- tasks: module-level functions so that joblib can cache them and run them in workers ----

def _learning_point(pipe, X, y, X_test, y_test) -> dict:
    start = time.perf_counter()
    pipe.fit(X, y)
    fit_time = time.perf_counter() - start
    return {"n_train": len(y), "accuracy": accuracy_score(y_test, pipe.predict(X_test)), "fit_time": fit_time}


def _fit(pipe, X, y):
    start = time.perf_counter()
    pipe.fit(X, y)
    return pipe, time.perf_counter() - start


def _model_bytes(model) -> int:
    """Size of the model file the store would write (skops format)."""
    import skops.io

    return len(skops.io.dumps(model))


def _latency(model, X, calls: int) -> tuple[float, float]:
    """p50 and p95 in ms of ``predict_proba`` on one image, after warm-up, cycling through ``X``."""
    for img in X[:5]:
        model.predict_proba(img[None])
    times = np.empty(calls)
    for i in range(calls):
        img = X[i % len(X)][None]
        start = time.perf_counter()
        model.predict_proba(img)
        times[i] = time.perf_counter() - start
    p50, p95 = np.percentile(times * 1000, [50, 95])
    return float(p50), float(p95)


def _assess(model, model_key, X_test, y_test, X_rob, y_rob, corruptions, latency_calls, random_state,
            X_non) -> dict:
    """Test predictions, batch and single-image speed, size, accuracy under corruptions, and
    probabilities on the non-digits ``X_non``.

    ``model`` is not part of the cache key (hashing a fitted model is slow); ``model_key``
    identifies it (the hash of what it was fitted on, or a saved model's SHA-256).
    """
    start = time.perf_counter()
    proba = model.predict_proba(X_test)
    predict_seconds = time.perf_counter() - start
    classes = np.asarray(model.classes_)
    p50, p95 = _latency(model, X_test, latency_calls)
    robustness = []
    for kind, (levels, _) in corruptions.items():
        for level in levels:
            pred = model.predict(corrupt(X_rob, kind, level, random_state))
            robustness.append({"kind": kind, "level": level, "accuracy": accuracy_score(y_rob, pred)})
    return {"proba": proba.astype(np.float32), "classes": classes, "pred": classes[proba.argmax(axis=1)],
            "predict_seconds": predict_seconds, "latency_p50_ms": p50, "latency_p95_ms": p95,
            "size_bytes": _model_bytes(model), "robustness": robustness,
            "proba_non_digits": np.asarray(model.predict_proba(X_non), np.float32)}


def _saved_model(name: str, pipe, train_checksum: str) -> dict | None:
    """The metadata of a saved model that is this very pipeline fitted on this very data
    (same name, default parameters, same estimator, same training checksum), else None."""
    from workbench.store import ModelFileError, resolve_model

    try:
        _, meta = resolve_model(name)
    except ModelFileError:
        return None
    same = (meta.get("pipeline") == name and not meta.get("params") and meta.get("estimator") == repr(pipe)
            and meta.get("training_data", {}).get("sha256") == train_checksum)
    return meta if same else None


def _run(cache_dir: str | None, kind: str, name: str, *task) -> tuple:
    """Run one task in a worker; returns ``(task id, result, cached, seconds)``.

    The arrays are top-level arguments, so that a Dask cluster sends each to a worker once
    (see :func:`workbench.distributed.cluster`), not once per task.
    """
    start = time.perf_counter()
    result, cached = _task(cache_dir, kind, name, *task)
    return _task_id((kind, name, *task)), result, cached, time.perf_counter() - start


def _task(cache_dir: str | None, kind: str, name: str, *task) -> tuple:
    """One task's ``(result, cached)``."""
    memory = Memory(cache_dir, verbose=0)
    if kind == "cv":  # the same fold as `workbench cv` fits
        fold, pipe, X, y, train, test = task
        return _call(memory.cache(_fit_fold), (pipe, X, y, train, test, name, fold))
    if kind == "learning":
        _, pipe, X, y, X_test, y_test = task
        return _call(memory.cache(_learning_point), (pipe, X, y, X_test, y_test))
    # final: fit (or load the saved model), then assess; the user's corrections are not cached
    (pipe, X, y, saved, X_test, y_test, X_rob, y_rob, corruptions, latency_calls, random_state, X_non,
     X_user, y_user) = task
    assess_args = (X_test, y_test, X_rob, y_rob, corruptions, latency_calls, random_state, X_non)
    cached = True
    if saved is not None:
        from workbench.store import load_model

        model, fit_seconds, key = load_model(name), saved["fit_seconds"], saved["sha256"]
    else:
        key = joblib.hash((pipe, X, y))  # before fitting: fit changes the pipeline in place
        (model, fit_seconds), cached = _call(memory.cache(_fit), (pipe, X, y))
    assess = memory.cache(_assess, ignore=["model"])
    result, assess_cached = _call(assess, (model, key, *assess_args))
    result = {**result, "fit_seconds": fit_seconds, "reused_model": saved is not None}
    if X_user is not None:
        result["user_accuracy"] = accuracy_score(y_user, model.predict(X_user))
    return result, cached and assess_cached


def _call(func, args) -> tuple:
    """``(func(*args), whether the result came from the cache)``."""
    cached = hasattr(func, "check_call_in_cache") and func.check_call_in_cache(*args)
    return func(*args), cached


# ---- what each task is expected to take, for the progress line's estimate -----------------
# Seconds each task took on one worker, by "kind pipeline training-images": measured by the
# last runs in this cache folder (timings.json beside the code-* folders), else those shipped
# with the workbench (task_seconds.json: the committed quick and full comparisons on 2 cores).

TIMINGS = "timings.json"


def _task_id(task: tuple) -> tuple:
    """A task's name: ``(kind, pipeline, fold or training images)``, ``(final, pipeline, None)``."""
    kind, name = task[0], task[1]
    return (kind, name, None) if kind == "final" else (kind, name, task[2])


def _task_size(task: tuple) -> int:
    """Training images of a task (0 for a final task that reuses a saved model)."""
    kind = task[0]
    if kind == "cv":
        return len(task[6])
    if kind == "learning":
        return int(task[2])
    return 0 if task[5] is not None else len(task[4])


def _timing_key(kind: str, name: str, n: int) -> str:
    return f"{kind} {name} {n}"


def _json_dict(path: Path) -> dict:
    """A JSON object kept in the cache folder, or {} when there is none or it is damaged (it
    only costs an estimate or a header line, and is written again at the end of the run)."""
    import json

    try:
        found = json.loads(path.read_text()) if path.is_file() else {}
    except (ValueError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def _known_seconds(cache_dir) -> dict[str, float]:
    import json
    from importlib.resources import files

    known = json.loads(files("workbench").joinpath("task_seconds.json").read_text())
    if cache_dir is not None:
        try:
            known.update({k: float(v) for k, v in _json_dict(Path(cache_dir) / TIMINGS).items()})
        except (ValueError, TypeError):
            pass  # a damaged timings file only costs the estimate; it is rewritten at the end
    return known


def _expected_seconds(known: dict[str, float], kind: str, name: str, n: int) -> tuple[float, bool]:
    """A task's expected seconds, and whether they were measured for this very task: else they
    are scaled from the same pipeline's tasks of this kind by training images, else the median
    of this kind's tasks of that size (a saved model scored as saved: size 0) or of any size."""
    if (key := _timing_key(kind, name, n)) in known:
        return known[key], True
    same = [(int(k.rsplit(" ", 1)[1]), v) for k, v in known.items() if k.rsplit(" ", 1)[0] == f"{kind} {name}"]
    same = [(size, v) for size, v in same if (size == 0) == (n == 0)]
    if same:
        size, seconds = min(same, key=lambda item: abs(item[0] - n))
        return seconds * (n / size if size else 1.0), False
    of_kind = [v for k, v in known.items() if k.startswith(f"{kind} ")]
    of_size = [v for k, v in known.items() if k.startswith(f"{kind} ") and (k.endswith(" 0")) == (n == 0)]
    return (float(np.median(of_size or of_kind)) if of_kind else 1.0), False


def _record_seconds(cache_dir, measured: dict[str, float]) -> None:
    import json

    path = Path(cache_dir) / TIMINGS
    known = {**_json_dict(path), **measured}
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")


def _user_corrections(log_path) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    from workbench.live.log import PredictionLog, default_log_path

    path = Path(log_path) if log_path is not None else default_log_path()
    if not path.exists():
        return None, None
    with PredictionLog(path) as log:
        X, y = log.corrections()
    return (X, y) if len(y) else (None, None)


def compare(
    names: list[str] | None = None,
    settings: Settings = FULL,
    *,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    log_path: str | Path | None = None,
    data_path: str | Path | None = None,
    progress: bool = False,
    command: str | None = None,
    scheduler: str | None = None,
) -> Comparison:
    """Compare named pipelines (all registered ones by default) on MNIST.

    Parameters
    ----------
    names : list of str, optional
    settings : Settings, default=FULL
        Data sizes and seeds (:data:`FULL` or :data:`QUICK`, or your own).
    cache_dir : path, optional
        Where task results are cached; ``None`` caches nothing. Results are kept in a folder
        per version of the code (:func:`code_fingerprint`); those of other versions are removed.
    n_jobs : int, optional
        Tasks run in parallel with joblib.
    log_path : path, optional
        Prediction log whose corrected records score every model on the user's handwriting
        (default: the app's log, when it exists).
    data_path : path, optional
        A directory of MNIST IDX files or a keras ``mnist.npz`` instead of the vendored copy.
    progress : bool
        Show a progress bar on stderr.
    scheduler : str, optional
        Run the tasks on this Dask scheduler (default ``$WORKBENCH_SCHEDULER``, else locally;
        see :mod:`workbench.distributed`). The cache folder must then be one the workers can
        reach (the same machine or a shared file system).
    command : str, optional
        The command line to record in the report.

    Examples
    --------
    >>> c = compare(["logreg", "pca_knn"], QUICK)                  # doctest: +SKIP
    >>> c.cv.groupby("pipeline").accuracy.mean()                     # doctest: +SKIP
    """
    names = list(names or list_pipelines())
    if len(set(names)) != len(names):
        raise ValueError(f"pipelines named twice: {', '.join(n for n in set(names) if names.count(n) > 1)}")
    if settings.folds < 2:
        raise ValueError(f"folds must be at least 2, got {settings.folds}")
    pipes = {name: get_pipeline(name) for name in names}  # unknown names fail before any work
    s, started, wall = settings, datetime.now(UTC), time.perf_counter()

    X_cv, y_cv = load_mnist("train", subset=s.cv_subset, random_state=s.random_state, path=data_path)
    X_train, y_train = load_mnist("train", subset=s.train_subset, random_state=s.random_state, path=data_path)
    X_test, y_test = load_mnist("test", subset=s.test_subset, random_state=s.random_state, path=data_path)
    X_rob, y_rob = load_mnist("test", subset=s.robustness_subset, random_state=s.random_state, path=data_path)
    X_user, y_user = _user_corrections(log_path)
    X_non, _ = non_digit_sample(s.non_digits, s.random_state + 1)
    train_checksum = dataset_checksum(X_train, y_train)
    sizes = [n for n in s.learning_sizes if n < len(y_train)]
    learning_data = {n: load_mnist("train", subset=n, random_state=s.random_state, path=data_path) for n in sizes}
    splits = cv_splits(y_cv, s.folds, s.random_state)

    tasks = []
    for name, pipe in pipes.items():  # the expensive final fits first, so that workers stay busy
        saved = _saved_model(name, pipe, train_checksum)
        tasks.append(("final", name, clone(pipe), X_train, y_train, saved, X_test, y_test, X_rob, y_rob,
                      CORRUPTIONS, s.latency_calls, s.random_state, X_non, X_user, y_user))
    for name, pipe in pipes.items():
        tasks += [("cv", name, k, clone(pipe), X_cv, y_cv, tr, te) for k, (tr, te) in enumerate(splits)]
        tasks += [("learning", name, n, clone(pipe), *learning_data[n], X_test, y_test) for n in sizes]

    cache = _cache_folder(cache_dir, code_fingerprint(pipes.values())) if cache_dir is not None else None
    arrays = [X_cv, y_cv, X_train, y_train, X_test, y_test, X_rob, y_rob, X_non,
              *itertools.chain(*learning_data.values())]
    sizes_of = {_task_id(t): _task_size(t) for t in tasks}
    known = _known_seconds(cache_dir)
    expected = {task_id: _expected_seconds(known, task_id[0], task_id[1], n) for task_id, n in sizes_of.items()}
    results, n_cached, measured = {}, 0, {}
    with cluster(scheduler, scatter=arrays):
        workers = min(joblib.effective_n_jobs(n_jobs), len(tasks))  # the cluster's, under a scheduler
        with Progress(len(tasks), "compare", enabled=progress, expected=[e for e, _ in expected.values()],
                      workers=workers) as bar:
            outcomes = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(_run)(cache, *t) for t in tasks)
            for task_id, result, cached, seconds in outcomes:
                results[task_id] = result
                n_cached += cached
                if not cached:
                    measured[_timing_key(task_id[0], task_id[1], sizes_of[task_id])] = round(seconds, 2)
                # Only the tasks measured before at this size tell how fast this run goes: a guess
                # scaled from another size that proves wrong is no sign of the machine's speed.
                seconds_expected, measured_before = expected[task_id]
                bar.update(" ".join(str(p) for p in task_id if p is not None) + (" (cached)" if cached else ""),
                           expected=seconds_expected, seconds=seconds if measured_before and not cached else None)
    if cache_dir is not None and measured:
        _record_seconds(cache_dir, measured)

    cv = pd.DataFrame([results[("cv", name, k)] for name in names for k in range(s.folds)])
    final = {name: results[("final", name, None)] for name in names}
    _refusals(final, X_test, X_non)
    learning = pd.DataFrame(
        [{"pipeline": name, **results[("learning", name, n)]} for name in names for n in sizes]
        + [{"pipeline": name, "n_train": len(y_train), "accuracy": accuracy_score(y_test, final[name]["pred"]),
            "fit_time": final[name]["fit_seconds"]} for name in names])
    robustness = pd.DataFrame([{"pipeline": name, **row} for name in names for row in final[name].pop("robustness")])
    user = None
    if y_user is not None:
        user = pd.DataFrame([{"pipeline": name, "n": len(y_user), "accuracy": final[name].pop("user_accuracy")}
                             for name in names])
    environment = _environment(s, command, started, time.perf_counter() - wall, n_cached, len(tasks), {
        "cross-validation": dataset_checksum(X_cv, y_cv), "final fit": train_checksum,
        "test": dataset_checksum(X_test, y_test), "robustness": dataset_checksum(X_rob, y_rob)})
    if cache is not None:
        _remember_run(Path(cache), names, environment)
    return Comparison(names, s, cv.sort_values(["pipeline", "fold"], ignore_index=True), final,
                      learning.sort_values(["pipeline", "n_train"], ignore_index=True), robustness, user,
                      X_test, y_test, environment)


def _refusals(final: dict, X_test, X_non) -> None:
    """Each pipeline's share of non-digits refused and of test digits refused, as the app
    refuses: the shipped digit gate (when there is one) or the model unsure."""
    from workbench.live.gate import load_gate
    from workbench.live.predictor import DEFAULT_THRESHOLD

    gate = load_gate()
    gate_test, gate_non = np.zeros(len(X_test), bool), np.zeros(len(X_non), bool)
    if gate is not None:  # the canvas's threshold: the non-digits are drawings
        gate_test, gate_non = gate.refuses(X_test), gate.refuses(X_non)
    for result in final.values():
        non_digits = refused(result.pop("proba_non_digits"), gate_non, DEFAULT_THRESHOLD)
        result["refuses_non_digits"] = float(non_digits.mean())
        result["refuses_digits"] = float(refused(result["proba"], gate_test, DEFAULT_THRESHOLD).mean())
        result["digit_gate"] = gate is not None


RUNS = "runs.json"


def _remember_run(cache: Path, names: list[str], environment: dict) -> None:
    """Keep, in the cache folder of this code, how long the run that computed these results
    took; a later run that finds every result in the cache (a report drawn again) says it under
    ``"computed_by"``, so that its header still tells what the comparison costs."""
    import json

    key = joblib.hash((sorted(names), environment["settings"], environment["data_sha256"]))
    path = cache / RUNS
    runs = _json_dict(path)
    if environment["cached_tasks"] < environment["tasks"]:
        runs[key] = {k: environment[k] for k in ("command", "started", "wall_seconds", "tasks", "cached_tasks")}
        path.write_text(json.dumps(runs, indent=1) + "\n")
    elif key in runs:
        environment["computed_by"] = runs[key]


def _environment(settings, command, started, wall, n_cached, n_tasks, checksums) -> dict:
    from workbench.store import library_versions

    return {
        "command": command or " ".join(sys.argv),
        "started": started.isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "tasks": n_tasks,
        "cached_tasks": n_cached,
        "settings": asdict(settings),
        "data_sha256": checksums,
        "cpu": _cpu_name(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "versions": library_versions(),
    }

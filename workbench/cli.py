"""The ``workbench`` command: thin parsers over the package's functions.

Every subcommand is a ``cmd_NAME(args)`` function registered with :func:`command`, its flags
written just above it (``_NAME_flags``); it calls an importable function that returns data,
then formats it. Tests call ``main([...])``; the console script calls ``main()``.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import logging
import os
import shlex
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger("workbench")


def _parse_params(items: list[str]) -> dict:
    """``["clf__C=10", "pca__whiten=True"]`` -> ``{"clf__C": 10, "pca__whiten": True}``."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param takes KEY=VALUE (e.g. clf__C=10), got {item!r}")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value  # a bare word such as rbf or distance
    return params


def _positive(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    if not text.strip().isdecimal() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


@contextlib.contextmanager
def _progress(desc: str):
    """While a long step runs: on a terminal, a live "desc: N s" line; elsewhere (a log file),
    a line when it starts. Either way a line saying how long it took."""
    start = time.perf_counter()
    if not sys.stderr.isatty():
        print(f"{desc} ...", file=sys.stderr, flush=True)
        outcome = "failed after"
        try:
            yield
            outcome = "done in"
        finally:
            print(f"{desc}: {outcome} {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        return
    done = threading.Event()

    def tick():
        while not done.wait(0.5):
            sys.stderr.write(f"\r{desc}: {time.perf_counter() - start:.0f} s")
            sys.stderr.flush()

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    outcome = "failed after"
    try:
        yield
        outcome = "done in"
    finally:
        done.set()
        thread.join()
        sys.stderr.write(f"\r{desc}: {outcome} {time.perf_counter() - start:.1f} s\n")


def _command(args) -> str:
    """The command line that was run, quoted so that it runs again as it is (for metadata)."""
    return shlex.join(["workbench", *(sys.argv[1:] if args.argv is None else args.argv)])


def _format_summary(summary):
    """``accuracy_mean``/``accuracy_std`` column pairs -> one ``0.9713 ± 0.0078`` column each."""
    import pandas as pd

    columns = {"accuracy": ("accuracy", 4), "macro_f1": ("macro F1", 4),
               "fit_time": ("fit s", 2), "score_time": ("score s", 2)}
    table = pd.DataFrame(index=summary.index)
    for key, (label, digits) in columns.items():
        mean, std = summary[f"{key}_mean"], summary[f"{key}_std"]
        table[label] = mean.map(f"{{:.{digits}f}}".format) + " ± " + std.map(f"{{:.{digits}f}}".format)
    return table


# -- the commands: each one's flags just above it, registered in the order of `workbench --help` --

COMMANDS: dict[str, tuple] = {}  # name -> (help, example, add its flags to a parser, run it)


def command(name: str, help: str, example: str, flags=None):
    """Register the decorated ``cmd_*`` function as ``workbench NAME``, with its one-line help,
    an example shown by its ``--help`` (the tests check that it parses) and ``flags(parser)``,
    the function that adds its arguments."""

    def register(run):
        COMMANDS[name] = (help, example, flags, run)
        return run

    return register


def _data_flags(p):
    p.add_argument("--data", metavar="PATH", help="MNIST IDX directory or mnist.npz instead of the vendored copy")
    p.add_argument("--seed", type=int, default=0, help="seed for subsets and folds (default 0)")


def _dask_flags(p):
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on this Dask scheduler, e.g. tcp://host:8786 (default: $WORKBENCH_SCHEDULER, "
                        "else locally)")


def _folds_flags(p):
    p.add_argument("--folds", type=int, default=5, metavar="K", help="number of folds (default 5)")
    p.add_argument("--subset", type=_positive, metavar="N", help="use a stratified subset of N training images")
    p.add_argument("--n-jobs", type=int, default=None, metavar="J", help="parallel fits (-1: all cores)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def _log_flag(p):
    p.add_argument("--log", metavar="PATH", help="prediction log (default: $WORKBENCH_LOG or the user data folder)")


@command("list", "list the registered pipelines", "workbench list")
def cmd_list(args) -> int:
    from workbench.registry import list_pipelines, pipeline_source, pipeline_summary

    names = list_pipelines()
    width = max(map(len, names))
    groups: dict[str, list[str]] = {}
    for name in names:  # under a heading saying where they come from
        source = pipeline_source(name)
        heading = ("built in (workbench.pipelines)" if source == "built-in" else source if source.startswith("plugin")
                   else f"from {Path(source).parent}")
        groups.setdefault(heading, []).append(name)
    for k, (heading, members) in enumerate(groups.items()):
        print(("\n" if k else "") + heading + ":")
        for name in members:
            print(f"  {name:<{width}}  {pipeline_summary(name)}")
    return 0


def _models_flags(p):
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")


@command("models", "list saved models with their test metrics",
         "workbench models --json", _models_flags)
def cmd_models(args) -> int:
    from workbench.store import list_models, models_dir, shipped_dir

    models = list_models()
    if args.json:
        print(json.dumps(models, indent=2))
        return 0
    print(f"shipped: {shipped_dir()}\nyours:   {models_dir()}")
    print(f"{'model':<20} {'from':<8} {'pipeline':<14} {'test acc':>8} {'macro F1':>8} {'train n':>7} {'fit s':>7} "
          f"{'size':>9}")
    for m in models:
        if "error" in m:
            print(f"{m['name']:<20} {m.get('source', ''):<8} unreadable: {m['error']}")
            continue
        test = m.get("test", {})
        print(
            f"{m['name']:<20} {m['source']:<8} {m.get('pipeline', '?'):<14} {test.get('accuracy', float('nan')):>8.4f} "
            f"{test.get('macro_f1', float('nan')):>8.4f} {m.get('training_data', {}).get('n', '?'):>7} "
            f"{m.get('fit_seconds', float('nan')):>7.1f} {m.get('file_bytes', 0) / 1e6:>7.2f}MB"
        )
        if m.get("shadowed"):
            print(f"  not used: yours of the same name is (remove {models_dir() / (m['name'] + '.json')} to use this)")
        elif m.get("description"):
            print(f"  {m['description']}")
    if not any(m["source"] == "yours" for m in models):
        print(f"(none of yours yet: workbench fit NAME, adapt or import save in {models_dir()})")
    return 0


def _fit_flags(p):
    _data_flags(p)
    p.add_argument("pipeline", metavar="NAME", help="registered pipeline (see: workbench list)")
    p.add_argument("--subset", type=_positive, metavar="N", help="train on a stratified subset of N images")
    p.add_argument("--name", metavar="MODEL", help="save under this name (default: the pipeline name)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="override a parameter, sklearn style (e.g. clf__C=10); repeatable")


@command("fit", "fit a pipeline on the training split, score it on the test split, save it",
         "workbench fit logreg --subset 5000 --name logreg-small", _fit_flags)
def cmd_fit(args) -> int:
    from workbench.evaluate import fit_pipeline
    from workbench.store import check_model_name, is_shipped, save_model

    params = _parse_params(args.param)
    name = check_model_name(args.name or args.pipeline)  # before the fit, not after 20 minutes of it
    if not args.name and is_shipped(name):  # yours stands in for a shipped model only when named so
        raise ValueError(f"{name!r} is a shipped model: give yours another name (--name {name}-mine), or "
                         f"--name {name} to use yours in its place")
    log.info("fitting %s on %s training images", args.pipeline, args.subset or "all")
    start = time.perf_counter()
    # A network shows its epochs itself (a bar on a terminal): no second live line beside it.
    from workbench.evaluate import networks
    from workbench.registry import get_pipeline

    quiet = bool(networks(get_pipeline(args.pipeline, **params))) and sys.stderr.isatty()
    with contextlib.nullcontext() if quiet else _progress(f"fitting and scoring {args.pipeline}"):
        pipe, meta = fit_pipeline(args.pipeline, params=params, subset=args.subset,
                                  random_state=args.seed, data_path=args.data, progress=True)
    meta["command"] = _command(args)
    meta["wall_seconds"] = round(time.perf_counter() - start, 1)  # loading data + fit + test scoring
    path = save_model(pipe, name, metadata=meta)
    test = meta["test"]
    print(
        f"{name}: test accuracy {test['accuracy']:.4f}, macro F1 {test['macro_f1']:.4f} "
        f"on {test['n']} images; fit {meta['fit_seconds']:.1f} s on {meta['training_data']['n']} images"
    )
    print(f"saved {path}")
    return 0


def _cv_flags(p):
    _data_flags(p)
    _dask_flags(p)
    _folds_flags(p)
    p.add_argument("pipelines", nargs="*", metavar="NAME", help="pipelines to compare (default: all)")


@command("cv", "stratified K-fold cross-validation of pipelines",
         "workbench cv logreg pca_knn --folds 3 --subset 2000", _cv_flags)
def cmd_cv(args) -> int:
    from workbench.evaluate import cross_validate, summarize_cv
    from workbench.registry import list_pipelines

    names = args.pipelines or list_pipelines()
    log.info("cross-validating %s with %d folds", ", ".join(names), args.folds)
    results = cross_validate(names, folds=args.folds, subset=args.subset, n_jobs=args.n_jobs,
                             random_state=args.seed, progress=True, data_path=args.data, scheduler=args.scheduler)
    summary = summarize_cv(results)
    if args.json:
        print(summary.reset_index().to_json(orient="records", indent=2))
    else:
        n = int(results["n_train"].iloc[0] + results["n_test"].iloc[0])
        print(f"{args.folds}-fold stratified CV on {n} training images (mean ± std over folds; seconds per fold)")
        print(_format_summary(summary).to_string())
    return 0


def _compare_flags(p):
    _data_flags(p)
    _dask_flags(p)
    p.add_argument("pipelines", nargs="*", metavar="NAME", help="pipelines to compare (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="small stratified subsets: about 6 minutes on 2 cores instead of about an hour (the "
                        "full comparison: 58 min, measured 2026-12-07; docs/pipelines.md)")
    p.add_argument("--folds", type=int, metavar="K", help="CV folds (default 5, 3 with --quick)")
    p.add_argument("--out", default="reports", metavar="DIR",
                   help="write DIR/<timestamp>/, point DIR/full or DIR/quick at it, and DIR/latest at the "
                        "newest full report (default: reports, in the current folder)")
    p.add_argument("--n-jobs", type=int, default=None, metavar="J", help="parallel tasks (-1: all cores)")
    p.add_argument("--log", metavar="PATH",
                   help="prediction log whose corrected records score the models (default: the app's log)")
    p.add_argument("--no-cache", action="store_true", help="recompute everything (default: reuse DIR/.cache)")


@command("compare", "compare pipelines and write a report (HTML, Markdown, CSV)",
         "workbench compare --quick", _compare_flags)
def cmd_compare(args) -> int:
    from dataclasses import replace

    from workbench.compare import FULL, QUICK, compare
    from workbench.registry import list_pipelines, quick_pipelines
    from workbench.report import format_leaderboard, leaderboard, write_report

    settings = replace(QUICK if args.quick else FULL, random_state=args.seed)
    if args.folds is not None:
        settings = replace(settings, folds=args.folds)
    names = args.pipelines or (quick_pipelines() if args.quick else list_pipelines())
    if args.quick and not args.pipelines and (left_out := sorted(set(list_pipelines()) - set(names))):
        print(f"compare: --quick leaves out {', '.join(left_out)} (too slow for minutes; name them to "
              "include them, or run the full comparison)", file=sys.stderr)
    command = _command(args)
    comparison = compare(names, settings, cache_dir=None if args.no_cache else Path(args.out) / ".cache",
                         n_jobs=args.n_jobs, log_path=args.log, data_path=args.data, progress=True,
                         command=command, scheduler=args.scheduler)
    folder = write_report(comparison, args.out)
    table = format_leaderboard(leaderboard(comparison)).set_index("pipeline")
    print(table[["test accuracy", "CV accuracy", "fit (s)", "latency p50 / p95 (ms)", "size (MB)"]].to_string())
    env = comparison.environment
    print(f"report: {folder / 'index.html'} ({env['wall_seconds']:.0f} s, "
          f"{env['cached_tasks']} of {env['tasks']} tasks from the cache)")
    return 0


def _parse_grid(items: list[str]) -> dict:
    """``["clf__C=1,10", "pca__whiten=True,False"]`` -> ``{"clf__C": [1, 10], "pca__whiten": [True, False]}``."""
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key or not all(v.strip() for v in values.split(",")):
            raise ValueError(f"--param takes KEY=V1,V2,... (e.g. clf__C=1,10,100), got {item!r}")
        grid[key] = [_parse_params([f"{key}={v}"])[key] for v in values.split(",")]
    return grid


def _search_flags(p):
    _data_flags(p)
    _dask_flags(p)
    _folds_flags(p)
    p.add_argument("pipeline", metavar="NAME", help="registered pipeline (see: workbench list)")
    p.add_argument("--param", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="values to try for a parameter, sklearn style (e.g. clf__C=1,10,100); repeatable")
    p.add_argument("--random", type=_positive, metavar="N", help="try N settings drawn at random instead of all")


@command("search", "grid or randomised search over a pipeline's parameters (stratified K-fold CV)",
         "workbench search pca_knn --param clf__n_neighbors=1,3,5 --subset 2000", _search_flags)
def cmd_search(args) -> int:
    from workbench.evaluate import search

    table = search(args.pipeline, _parse_grid(args.param), random=args.random, folds=args.folds,
                   subset=args.subset, n_jobs=args.n_jobs, random_state=args.seed, data_path=args.data,
                   scheduler=args.scheduler, progress=True)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    shown = table.drop(columns=[c for c in table if c.startswith("fold")])
    shown["accuracy"] = [f"{m:.4f} ± {s:.4f}" for m, s in zip(table.accuracy_mean, table.accuracy_std, strict=True)]
    shown["fit s"] = table.fit_time.map("{:.2f}".format)
    n = len(table)
    print(f"{args.folds}-fold stratified CV of {n} settings of {args.pipeline} (mean ± std accuracy; seconds per fit)")
    print(shown.drop(columns=["accuracy_mean", "accuracy_std", "fit_time"]).to_string(index=False))
    return 0


def _evaluate_flags(p):
    _data_flags(p)
    p.add_argument("model", metavar="MODEL", help="saved model name or path to its .json/.skops")
    p.add_argument("--json", action="store_true", help="print one JSON object")


@command("evaluate", "score a saved model on the MNIST test split",
         "workbench evaluate cnn --json", _evaluate_flags)
def cmd_evaluate(args) -> int:
    from workbench.evaluate import evaluate_model
    from workbench.store import load_model

    model = load_model(args.model)
    result = {"model": args.model, **evaluate_model(model, data_path=args.data)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.model}: accuracy {result['accuracy']:.4f}, macro F1 {result['macro_f1']:.4f} "
              f"on {result['n']} test images ({result['predict_seconds']:.1f} s)")
    return 0


def _open_log(path):
    """The prediction log, or None (with a warning) when it cannot be opened: reading goes on."""
    from workbench.live.log import LogError, PredictionLog

    try:
        return PredictionLog(path)
    except LogError as exc:
        print(f"workbench: warning: {_one_line(exc)}; predictions are not logged", file=sys.stderr)
        return None


def _explain(folder, path, reading, predictor, written: set) -> Path:
    """Write ``folder/<image name>.png`` (numbered when two inputs share a name) explaining a reading."""
    from workbench.explain import explain_png

    stem = Path(path).stem
    out = Path(folder) / f"{stem}.png"
    number = 1
    while out in written:
        number += 1
        out = Path(folder) / f"{stem}-{number}.png"
    written.add(out)
    return explain_png(out, reading, predictor.active.pipeline, title=str(path))


def _json_list(results: list[dict]) -> str:
    """A JSON list with one object per line."""
    return "[\n" + ",\n".join(json.dumps(result) for result in results) + "\n]"


def _predict_flags(p):
    p.add_argument("paths", nargs="+", metavar="PATH", help="PNG, JPEG or BMP files")
    p.add_argument("--model", default="cnn", help="saved model name or path (default: cnn)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per path")
    _log_flag(p)
    p.add_argument("--no-log", action="store_true", help="do not write the readings into the prediction log")
    p.add_argument("--explain", action="store_true",
                   help="also write a PNG per input: what the model saw, the strokes its answer rests on "
                        "(occlusion saliency) and its top three classes")
    p.add_argument("--explain-dir", metavar="DIR", help="where --explain writes (default: explanations; implies "
                                                        "--explain)")


@command("predict", "read the digits in image files (drawings, scans, photos)",
         "workbench predict drawing.png page.jpg --explain", _predict_flags)
def cmd_predict(args) -> int:
    from workbench.live.images import ImageError, check_image_file, read_image
    from workbench.store import resolve_model

    unreadable = {}  # the inputs and the model are checked before the model loads (seconds)
    for path in args.paths:
        try:
            check_image_file(path)
        except ImageError as exc:
            unreadable[path] = str(exc)
    if unreadable and not args.json:
        for message in unreadable.values():
            print(f"workbench: error: {message}", file=sys.stderr, flush=True)
    resolve_model(args.model)
    if len(unreadable) == len(args.paths):
        if args.json:
            print(_json_list([{"path": path, "error": message} for path, message in unreadable.items()]))
        return 1

    from workbench.live.log import LogError
    from workbench.live.predictor import Predictor

    predictor = Predictor(args.model)
    prediction_log = None if args.no_log else _open_log(args.log)
    results, failed, written, said = [], bool(unreadable), set(), {}
    for path in args.paths:
        if path in unreadable:
            results.append({"path": path, "error": unreadable[path]})
            continue
        try:
            reading = predictor.read_frame(read_image(path))
        except ImageError as exc:
            failed = True
            results.append({"path": path, "error": str(exc)})
            continue
        results.append({"path": path, **reading.to_json()})
        said[len(results) - 1] = reading.summary()  # text mode: what was refused, in words
        if args.explain or args.explain_dir:
            folder = args.explain_dir or "explanations"
            results[-1]["explanation"] = str(_explain(folder, path, reading, predictor, written))
        if prediction_log is not None:
            try:
                prediction_log.add_reading(reading, "file", origin=str(Path(path).resolve()))
            except LogError as exc:
                print(f"workbench: warning: {_one_line(exc)}; predictions are no longer logged", file=sys.stderr)
                prediction_log = None
    if args.json:
        print(_json_list(results))
    else:
        for number, result in enumerate(results):
            if "error" in result:
                if result["path"] not in unreadable:  # those were said before the model loaded
                    print(f"workbench: error: {result['error']}", file=sys.stderr)
            else:
                why = f"   (explained in {result['explanation']})" if "explanation" in result else ""
                print(f"{result['path']}: {said[number]}{why}")
        if prediction_log is not None and said:  # where the readings went, once (ids: workbench log)
            print(f"(logged to {prediction_log.path}: workbench log to see or correct them; --no-log not to log)",
                  file=sys.stderr)
    return 1 if failed else 0


def _log_flags(p):
    _log_flag(p)
    p.add_argument("--limit", type=_positive, default=20, metavar="N", help="show the newest N records (default 20)")
    p.add_argument("--correct", action="append", default=[], metavar="ID=LABEL",
                   help="record the right label of a prediction; repeatable")
    p.add_argument("--export", metavar="FILE", help="write the whole log to FILE.csv or FILE.parquet")


@command("log", "list, correct or export the prediction log",
         "workbench log --limit 5 --correct 41=9", _log_flags)
def cmd_log(args) -> int:
    from workbench.live.log import PredictionLog

    corrections = {}
    for item in args.correct:  # all of them checked before any is written
        record, sep, label = item.partition("=")
        if not (sep and record.isdecimal() and label.isdecimal()):
            raise ValueError(f"--correct takes ID=LABEL (e.g. 12=7), got {item!r}")
        if int(label) > 9:
            raise ValueError(f"--correct {item}: a label is a digit 0-9")
        corrections[int(record)] = int(label)
    with PredictionLog(args.log, create=False) as prediction_log:  # reading a log never makes one
        prediction_log.correct_many(corrections)
        if args.export:
            path = prediction_log.export(args.export)
            print(f"exported {len(prediction_log)} records to {path}")
            return 0
        table = prediction_log.frame(limit=args.limit)
    if table.empty:
        print(f"no predictions logged in {prediction_log.path}")
        return 0
    table["time"] = table["time"].dt.tz_convert(None).dt.strftime("%Y-%m-%d %H:%M:%S")  # NaT stays missing: "-"
    table["origin"] = table["origin"].map(lambda o: o if not isinstance(o, str) or len(o) <= 40 else "..." + o[-37:])
    columns = ["id", "time", "source", "origin", "model", "label", "confidence", "corrected_label", "latency_ms"]
    table = table[columns].astype(object).where(table[columns].notna(), "-")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return 0


def _adapt_flags(p):
    _data_flags(p)
    p.add_argument("model", metavar="MODEL", help="saved model name or path to its .json/.skops")
    _log_flag(p)
    p.add_argument("--name", metavar="NEW", help="save under this name (default: MODEL-adapted)")


@command("adapt", "adapt a saved model to the corrected records of the prediction log, save it beside it",
         "workbench adapt cnn --name cnn-mine", _adapt_flags)
def cmd_adapt(args) -> int:
    from workbench.adapt import adapt_saved, describe

    path, report = adapt_saved(args.model, log=args.log, name=args.name, data_path=args.data,
                               command=_command(args), status=lambda text: log.info("%s", text))
    held, mnist = report["held_out_accuracy"], report["mnist_test_accuracy"]
    print(f"{path.stem}: adapted from {args.model} by {report['method']} on {describe(report['corrections'])} "
          f"in {report['adapt_seconds']:.0f} s")
    print(f"  your digits, {held['held_out']} held out (adapted on the other {held['learnt_from']} to measure): "
          f"{held['before']:.1%} -> {held['after']:.1%}")
    print(f"  MNIST test ({mnist['n']} images): {mnist['before']:.2%} -> {mnist['after']:.2%}")
    print(f"saved {path} (the original {args.model} is unchanged: `workbench app --model {args.model}` to go back)")
    return 0


def _import_flags(p):
    _data_flags(p)
    p.add_argument("file", metavar="FILE", help="a .skops scikit-learn pipeline or a .keras classifier of 28x28 digits")
    p.add_argument("--name", required=True, metavar="MODEL", help="save under this name")


@command("import", "add a fitted model from outside: a skops pipeline or a Keras 3 .keras classifier",
         "workbench import my_model.keras --name mine", _import_flags)
def cmd_import(args) -> int:
    from workbench.data import load_mnist
    from workbench.evaluate import score
    from workbench.imported import import_model
    from workbench.store import check_model_name, save_model

    name = check_model_name(args.name)
    pipe = import_model(args.file)
    test = score(pipe, *load_mnist("test", path=args.data))
    path = save_model(pipe, name, metadata={"pipeline": f"imported from {Path(args.file).name}",
                                            "description": f"Imported from {Path(args.file).name}.",
                                            "imported_from": str(Path(args.file).resolve()), "test": test,
                                            "command": _command(args)})
    print(f"{name}: imported from {args.file}; test accuracy {test['accuracy']:.4f}, macro F1 {test['macro_f1']:.4f} "
          f"on {test['n']} images")
    print(f"saved {path}")
    return 0


def _export_flags(p):
    p.add_argument("model", metavar="MODEL", help="saved model name or path (a CNN model)")
    p.add_argument("--format", choices=("keras", "onnx"), default="keras", help="file format (default keras)")
    p.add_argument("--out", metavar="FILE", help="where to write it (default: MODEL.FORMAT here)")


@command("export", "write a CNN model's network as a portable .keras or .onnx file",
         "workbench export cnn --format keras --out cnn.keras", _export_flags)
def cmd_export(args) -> int:
    from workbench.imported import export_model
    from workbench.store import load_model

    out = Path(args.out or f"{Path(args.model).stem}.{args.format}")
    path = export_model(load_model(args.model), out, args.format)
    print(f"{args.model} -> {path} ({args.format}: input (n, 28, 28, 1) float32 in [0, 1], MNIST-normalised; "
          "output the probabilities of 0-9)")
    return 0


def _app_flags(p):
    p.add_argument("--model", default="cnn", help="model to start with (default: cnn)")
    p.add_argument("--camera", default="demo", metavar="SOURCE",
                   help="webcam index (0), 'demo', a video file, an image or a folder (default: demo)")
    _log_flag(p)
    p.add_argument("--frames", type=_positive, metavar="N",
                   help="quit after N frames with the model ready (with --screenshot)")
    p.add_argument("--screenshot", metavar="PNG", help="save a screenshot of frame N, then quit")


@command("app", "the desktop app: draw and camera panels read by the active model",
         "workbench app --camera demo", _app_flags)
def cmd_app(args) -> int:
    from workbench.app.main import run

    if (args.frames is None) != (args.screenshot is None):
        raise ValueError("--frames and --screenshot go together (render N frames, save a screenshot, quit)")
    return run(args.model, args.camera, args.log, frames=args.frames, screenshot=args.screenshot)


def version() -> str:
    """``workbench X (keras K on jax J, scikit-learn S, Python P)``, without importing them."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    from workbench import __version__

    def of(package):
        try:
            return installed(package)
        except PackageNotFoundError:
            return "not installed"

    return (f"workbench {__version__} (keras {of('keras')} on jax {of('jax')}, scikit-learn {of('scikit-learn')}, "
            f"Python {sys.version.split()[0]})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Compare classical machine learning with a CNN on MNIST digits.",
        epilog="Every command has its own help: workbench COMMAND --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the version on one line
    )
    parser.add_argument("--version", action="version", version=version())
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument("--pipelines", action="append", default=[], metavar="DIR", dest="pipeline_folders",
                        help="also register every NAME.py in DIR as pipeline NAME (repeatable; or set "
                             "$WORKBENCH_PIPELINES)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (help, example, flags, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help, epilog=f"example:\n  {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if flags is not None:
            flags(p)
        p.set_defaults(func=run)
    return parser


def _one_line(message) -> str:
    """An error message on one line (some library messages span many), printable: a control
    character or a byte of a damaged file quoted in a library's message is shown escaped."""
    text = " ".join(str(message).split())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


#: The errors a command reports in one line, by exit code: 1, a file that cannot be read or
#: written; 2, usage: what was asked cannot be done. Named by module, so that checking an error
#: imports nothing (an error can only come from a module that was imported).
ERRORS = {
    1: [("workbench.data", "DataError"), ("workbench.store", "ModelFileError"), ("workbench.live.log", "LogError"),
        ("builtins", "OSError")],
    2: [("builtins", "ValueError"), ("builtins", "KeyError"), ("workbench.live.sources", "SourceError"),
        ("workbench.distributed", "SchedulerError")],
}


def _exit_code(exc: BaseException) -> int | None:
    """1 or 2 for an error of :data:`ERRORS`, None for any other (a bug: it keeps its traceback)."""
    for code, kinds in ERRORS.items():
        for module, name in kinds:
            kind = getattr(sys.modules.get(module), name, None)
            if kind is not None and isinstance(exc, kind):
                return code
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the ``workbench`` command with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from workbench.backend import use_compilation_cache

    use_compilation_cache()  # before anything compiles: a second run loads what the first compiled
    try:
        if args.pipeline_folders:
            from workbench.registry import use_folders

            use_folders(args.pipeline_folders)
        return args.func(args)
    except BrokenPipeError:  # `workbench list | head -1`: the reader has all it wanted
        # Python would complain again when it flushes stdout at exit: point stdout at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        code = _exit_code(exc)
        if code is None or args.verbose >= 2:
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"workbench: error: {_one_line(message)}", file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())

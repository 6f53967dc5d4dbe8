"""Simulated writers before and after `workbench adapt`, through the path each writes by.

    .venv/bin/python benchmarks/adapt.py [--writers "barred 7" ...] [--paths canvas files camera]
                                         [--seeds 0 1 2] [--corrections 20 60] [--model cnn]
                                         [--json results.json] [--set epochs=2 replay=20000 ...]
    .venv/bin/python benchmarks/adapt.py --montage benchmarks/results/writers.png

Each writer (:data:`workbench.synth.WRITERS`) writes one digit in a style MNIST hardly holds
(:func:`workbench.synth.in_style` on MNIST *test* digits: a barred 7, a 1 with a flag and a
foot, a 4 closed at the top, a 9 on a straight stem, a crossed 2) and the others as MNIST does,
and gives them the way a user does (each image is re-drawn with a random brush, size and place
by :func:`workbench.synth.redraw`):

- canvas: drawn on the app's draw panel, read by ``Predictor.read_canvas``;
- files: drawn dark on white as a PNG file holds them (lossless: the image itself) and read as
  ``workbench predict`` reads a file (``Predictor.read_frame``; ``benchmarks/adapt_cli.py``
  writes the files and runs the commands);
- camera: written on pages of five digits, photographed (``render_page``: tilt, light, blur,
  noise) and read by ``Predictor.read_frame`` as the camera panel reads a frame.

Each writer's stream: 40 digits of the writer's own style and 20 others, which the writer
labels in the order they come (what the log keeps: the 28x28 image the model saw, and the right
label, a correction or a confirmation); the first N labelled records are what ``adapt`` gets.
Their evaluation set: 100 other digits of their style and 100 others (10-12 of each class), read
through the same path by the adapted model with the gate in front, as a user would meet it:
a digit is right when the reading is exactly it (unsure, refused, nothing or two digits are
wrong). Printed per writer, path and seed: the writer's accuracy (all, their digit, the others),
the share the gate refuses (no model can read those: a ceiling), MNIST test, adapt seconds.
"""

from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
from live import contains  # benchmarks/live.py: a reading's box holds a true digit's centre

from workbench.adapt import adapt
from workbench.data import load_mnist
from workbench.live.predictor import ActiveModel, Predictor
from workbench.live.scene import render_page
from workbench.synth import WRITERS, in_style, redraw

PATHS = ("canvas", "files", "camera")
STREAM = (40, 20)  # the writer's digit, other digits: what the writer labels
EVALUATION = (100, 100)
PAGE = 5  # digits on a photographed page


def writer_digits(X, y, writer: str, rng: np.random.Generator):
    """The writer's stream and evaluation digits (28x28, in their style) with their labels."""
    own = WRITERS[writer]
    mine, others = rng.permutation(np.flatnonzero(y == own)), rng.permutation(np.flatnonzero(y != own))
    stream = rng.permutation(np.concatenate([mine[: STREAM[0]], others[: STREAM[1]]]))
    evaluation = np.concatenate([mine[STREAM[0] : STREAM[0] + EVALUATION[0]],
                                 others[STREAM[1] : STREAM[1] + EVALUATION[1]]])
    return [(np.stack([in_style(X[i], int(y[i]), writer) for i in idx]), y[idx]) for idx in (stream, evaluation)]


def written(digits: np.ndarray, labels: np.ndarray, path: str, rng: np.random.Generator) -> list:
    """The inputs a writer gives for ``digits``: one canvas or file per digit, or pages of five."""
    if path == "canvas":
        return [redraw(d, rng, invert=False) for d in digits]
    if path == "files":
        return [redraw(d, rng, invert=True) for d in digits]
    return [render_page(digits[k : k + PAGE], labels[k : k + PAGE], rng) for k in range(0, len(digits), PAGE)]


def read(predictor: Predictor, inputs: list, path: str) -> tuple[list, list]:
    """Each digit's answer (None: unsure, refused, not found or not alone) and the 28x28 image
    the model saw (None when nothing was found), in the order the digits were written."""
    answers, images = [], []
    for item in inputs:
        if path == "canvas":
            digits = predictor.read_canvas(item).digits
            answers.append(digits[0].label if len(digits) == 1 else None)
            images.append(digits[0].image if digits else None)
        elif path == "files":
            digits = predictor.read_frame(item).digits
            answers.append(digits[0].label if len(digits) == 1 and not digits[0].refused else None)
            images.append(digits[0].image if digits else None)
        else:
            found = predictor.read_frame(item.image).digits
            for box in item.boxes:
                match = [d for d in found if contains(d.box, box)]
                answers.append(match[0].label if len(match) == 1 and not match[0].refused else None)
                images.append(match[0].image if match else None)
    return answers, images


def scores(answers, labels, own: int, refused) -> dict:
    right = np.array([a == t for a, t in zip(answers, labels, strict=True)])
    mine = labels == own
    return {"all": right.mean(), "own": right[mine].mean(), "others": right[~mine].mean(),
            "unreadable": float(np.mean(refused))}


def montage(path: str) -> None:
    X, y = load_mnist("test")
    pairs = []
    for writer, digit in WRITERS.items():
        first = X[y == digit][:10]
        pairs.append(np.vstack([np.hstack(list(first)), np.hstack([in_style(d, digit, writer) for d in first])]))
    image = np.vstack([np.pad(p, ((0, 6), (0, 0))) for p in pairs])
    cv2.imwrite(path, cv2.resize(255 - image, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST))


def summary(path: str) -> None:
    """The writers' table: per writer and path, means over the seeds of the writer's digits
    right (all / their own digit) before, after 20 and after 60 labelled digits, MNIST after 60,
    the share no model can read and the seconds of one adaptation."""
    import pandas as pd

    rows = pd.read_json(path, lines=True)
    rows["n"] = rows["n"].map(lambda n: 0 if n == 0 else 20 if n <= 20 else 60)
    table = rows.groupby(["writer", "path", "n"], sort=False).agg(
        all=("all", "mean"), own=("own", "mean"), mnist=("mnist", "mean"), unreadable=("unreadable", "mean"),
        seconds=("seconds", "mean"), seeds=("seed", lambda seeds: tuple(sorted(set(seeds)))))
    print("| writer | path | before: all / own | after 20 | after 60 | MNIST after 60 | unreadable | s a fit | seeds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (writer, way), group in table.groupby(level=[0, 1], sort=False):
        cells = group.droplevel([0, 1])  # one row per number of labelled digits

        def pair(n, cells=cells):
            if n not in cells.index:
                return ""
            cell = cells.loc[n]
            seeds = cell["seeds"]  # said when they are not those of the "before" cell
            said = f" (seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))})"
            note = "" if seeds == cells.loc[0, "seeds"] else said
            return f"{cell['all']:.1%} / {cell['own']:.1%}{note}"

        last = cells.loc[60 if 60 in cells.index else 0]
        print(f"| {writer} | {way} | {pair(0)} | {pair(20)} | {pair(60)} | {last['mnist']:.2%} | "
              f"{last['unreadable']:.1%} | {last['seconds']:.0f} | {len(last['seeds'])} |")
    # the targets, per writer, path and seed
    runs = rows.pivot_table(index=["writer", "path", "seed"], columns="n", values=["all", "own", "mnist"])
    if 60 in runs["all"]:
        after = runs.xs(60, axis=1, level=1)
        before_mnist = runs[("mnist", 0)]
        met = {"all >= 98%": after["all"] >= 0.98, "own >= 97%": after["own"] >= 0.97,
               "MNIST drop <= 0.1 point": before_mnist - after["mnist"] <= 0.001 + 1e-9}
        if 20 in runs["all"]:
            half = runs[("all", 20)] - runs[("all", 0)] >= (runs[("all", 60)] - runs[("all", 0)]) / 2
            met["after 20: half the gain of 60"] = half[runs[("all", 20)].notna()]
        print()
        for target, ok in met.items():
            ok = ok.dropna()
            print(f"- {target}: {int(ok.sum())} of {len(ok)} runs (writer x path x seed)")


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--writers", nargs="+", default=list(WRITERS), choices=list(WRITERS))
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=PATHS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--corrections", type=int, nargs="*", default=[20, 60])
    parser.add_argument("--set", nargs="*", default=[], metavar="OPTION=VALUE",
                        help="an option of workbench.adapt.adapt, to try a recipe")
    parser.add_argument("--json", help="append each result to this file (one JSON object a line)")
    parser.add_argument("--montage", metavar="PNG", help="only draw ten digits of each writer, before and after "
                        "their style, into this file (docs' benchmarks/results/writers.png)")
    parser.add_argument("--summary", metavar="JSONL", help="only print the docs' table from the results a --json "
                        "run appended to this file (means over the seeds)")
    args = parser.parse_args()
    if args.montage:
        return montage(args.montage)
    if args.summary:
        return summary(args.summary)
    options = {k: _number(v) for k, v in (o.split("=") for o in args.set)}
    X_test, y_test = load_mnist("test")
    X_train, y_train = load_mnist("train")
    base = Predictor(args.model)
    mnist_before = float(np.mean(base.active.pipeline.predict(X_test) == y_test))
    print(f"model {args.model} (MNIST test {mnist_before:.2%}); recipe {options or 'the defaults'}")
    print(f"{'writer':<11} {'path':<7} {'seed':>4} {'labels':>6} {'all':>7} {'own':>7} {'others':>7} "
          f"{'unread':>7} {'MNIST':>7} {'seconds':>7}")
    for seed in args.seeds:
        for writer in args.writers:
            for path in args.paths:
                rng = np.random.default_rng([seed, list(WRITERS).index(writer), PATHS.index(path)])
                (sX, sy), (eX, ey) = writer_digits(X_test, y_test, writer, rng)
                stream, evaluation = written(sX, sy, path, rng), written(eX, ey, path, rng)
                _, logged = read(base, stream, path)
                kept = [i for i, image in enumerate(logged) if image is not None]
                before, _ = read(base, evaluation, path)
                # what the gate refuses is refused whatever the model: read once with the gate alone
                refused = [a is None for a in read(Predictor(base.active, gate=base.gate, threshold=0.0),
                                                   evaluation, path)[0]]
                row = {"writer": writer, "path": path, "seed": seed, "options": options, "n": 0,
                       **scores(before, ey, WRITERS[writer], refused), "mnist": mnist_before}
                rows = [row]
                for n in args.corrections:
                    picked = kept[:n]
                    start = time.perf_counter()
                    adapted = adapt(base.active.pipeline, np.stack([logged[i] for i in picked]), sy[picked],
                                    X_train=X_train, y_train=y_train, random_state=seed, **options)
                    seconds = time.perf_counter() - start
                    reader = Predictor(ActiveModel("adapted", "", adapted, {}), gate=base.gate)
                    after, _ = read(reader, evaluation, path)
                    rows.append({**row, "n": len(picked), **scores(after, ey, WRITERS[writer], refused),
                                 "mnist": float(np.mean(adapted.predict(X_test) == y_test)), "seconds": seconds})
                for r in rows:
                    print(f"{writer:<11} {path:<7} {seed:>4} {r['n']:>6} {r['all']:>7.1%} {r['own']:>7.1%} "
                          f"{r['others']:>7.1%} {r['unreadable']:>7.1%} {r['mnist']:>7.2%} "
                          f"{r.get('seconds', 0):>7.0f}", flush=True)
                    if args.json:
                        with open(args.json, "a") as f:
                            f.write(json.dumps({k: (float(v) if isinstance(v, np.floating) else v)
                                                for k, v in r.items()}) + "\n")


if __name__ == "__main__":
    main()

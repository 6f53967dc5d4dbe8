"""Accuracy and speed of reading images the way ``workbench predict`` does, on every kind of
fixture that ``live_fixtures.py`` writes.

    .venv/bin/python benchmarks/live_fixtures.py --out /tmp/live-fixtures
    .venv/bin/python benchmarks/live.py --fixtures /tmp/live-fixtures [--model cnn] [--repeats 2]

Every file is read from disk with ``read_image`` and read by ``Predictor.read_frame`` (the path
``workbench predict`` and the camera panel take), each kind reported separately:
- drawings, printed digits, close-ups, optdigits: the share of images read as exactly their
  digit (unsure, nothing or an extra digit count as wrong);
- numbers (photos), drawn numbers (on a canvas), rows of optdigits and of MNIST digits
  (scans): the share read exactly, how many readings are shorter or longer than what was
  written, and the share of digits right where the count matched;
- pages: the share of true digits found (a reading whose box holds the digit's centre), of
  found digits read right, and of pages read exactly.
Drawings are also read by ``read_canvas`` (the draw panel's path) for comparison. Every kind
made of MNIST test digits or optdigits is also scored on those digits as their dataset has
them (28x28 arrays straight to the model: right and sure, per digit and per file): what a reader
that lost nothing would reach with this model, the ceiling; the reader's loss is the points per
digit between that and the digits it reads right in their place.
Speed: ``read_frame`` on the decoded images after warm-up, p50/p95 in milliseconds per kind.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from workbench.data import load_mnist
from workbench.live.images import read_image
from workbench.live.predictor import Predictor
from workbench.synth import optdigits_as_mnist

SINGLE = ("drawings", "printed", "closeups", "optdigits")
NUMBERS = ("numbers", "drawn_numbers", "optdigit_rows", "rows")
KINDS = (*SINGLE, *NUMBERS, "pages")


def contains(box, truth_box) -> bool:
    x, y, w, h = truth_box
    cx, cy = x + w / 2, y + h / 2
    return box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]


def score(kind: str, readings: dict, truth: dict) -> dict:
    """Accuracy figures of one kind of fixture from its readings ``{file: Reading}``."""
    items = truth[kind]
    texts = {name: "".join(map(str, item["labels"])) for name, item in items.items()}
    exact = np.mean([readings[name].text == text for name, text in texts.items()])
    result = {"n": len(items), "exact": float(exact), "digits_right": float(exact)}
    if kind in NUMBERS:
        same_length = [n for n, t in texts.items() if len(readings[n].text) == len(t)]
        right = sum(a == b for n in same_length for a, b in zip(readings[n].text, texts[n], strict=True))
        result["digits_right_where_count_matched"] = right / max(1, sum(len(texts[n]) for n in same_length))
        result["count_matched"] = len(same_length) / len(items)
        # every written digit: right in its place, a reading of another length rights none
        result["digits_right"] = right / sum(len(t) for t in texts.values())
        result["shorter"] = sum(len(readings[n].text) < len(t) for n, t in texts.items())
        result["longer"] = sum(len(readings[n].text) > len(t) for n, t in texts.items())
    if kind == "pages":
        n_true = found = read_right = 0
        for name, item in items.items():
            for label, box in zip(item["labels"], item["boxes"], strict=True):
                match = [d for d in readings[name].digits if contains(d.box, box)]
                n_true += 1
                found += bool(match)
                read_right += bool(match) and match[0].label == label
        result.update(digits=n_true, digits_found=found / n_true, found_digits_right=read_right / max(found, 1),
                      digits_right=read_right / n_true)
    return result


def originals(kind: str, truth: dict, predictor: Predictor, sources: dict) -> dict | None:
    """The model on the kind's digits as their dataset has them (MNIST test digits as 28x28
    originals, ``indices``; optdigits through :func:`optdigits_as_mnist`, ``optdigits``): the
    share read right and sure (at the Predictor's threshold), per digit and per file; None for a
    kind of fonts. ``sources``: ``{key: (X, y)}``."""
    key = next((k for k in sources if any(k in item for item in truth[kind].values())), None)
    if key is None:
        return None
    X, y = sources[key]
    items = list(truth[kind].values())
    indices = np.concatenate([item[key] for item in items])
    proba = predictor.predict_proba(X[indices])
    sure_right = (proba.argmax(axis=1) == y[indices]) & (proba.max(axis=1) >= predictor.threshold)
    ends = np.cumsum([len(item[key]) for item in items])
    per_file = [part.all() for part in np.split(sure_right, ends[:-1])]
    return {"digits": float(sure_right.mean()), "files": float(np.mean(per_file))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=Path("/tmp/live-fixtures"))
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--errors", type=Path, help="copy each misread file here, named by kind, truth and reading")
    parser.add_argument("--kinds", nargs="+", default=KINDS, choices=KINDS, help="score only these kinds")
    args = parser.parse_args()
    truth = json.loads((args.fixtures / "truth.json").read_text())
    predictor = Predictor(args.model)
    optdigits = load_digits()
    sources = {"indices": load_mnist("test"),  # the digits the fixtures were made of
               "optdigits": (optdigits_as_mnist(optdigits.images), optdigits.target)}
    print(f"model {args.model}, {os.cpu_count()} CPUs; read as `workbench predict` reads (read_image + read_frame)")
    figures = {}
    for kind in args.kinds:
        if kind not in truth:
            continue
        images = {name: read_image(args.fixtures / name) for name in truth[kind]}
        readings = {name: predictor.read_frame(image) for name, image in images.items()}
        figures[kind] = score(kind, readings, truth)
        if args.errors:
            args.errors.mkdir(parents=True, exist_ok=True)
            for name, item in truth[kind].items():
                text = "".join(map(str, item["labels"]))
                if readings[name].text != text:
                    target = args.errors / f"{kind}-{Path(name).stem}-{text}-read-{readings[name].text or 'none'}"
                    target.with_suffix(Path(name).suffix).write_bytes((args.fixtures / name).read_bytes())
        for image in list(images.values())[:10]:
            predictor.read_frame(image)  # warm-up
        times = []
        for _ in range(args.repeats):
            for image in images.values():
                start = time.perf_counter()
                predictor.read_frame(image)
                times.append(time.perf_counter() - start)
        p50, p95 = np.percentile(times, [50, 95]) * 1e3
        figures[kind].update(p50_ms=float(p50), p95_ms=float(p95))
        extra = ""
        if kind in NUMBERS:
            extra = (f", count right {figures[kind]['count_matched']:.2%} ({figures[kind]['shorter']} shorter, "
                     f"{figures[kind]['longer']} longer), digits right where the count matched "
                     f"{figures[kind]['digits_right_where_count_matched']:.2%}")
        if kind == "pages":
            extra = (f", digits found {figures[kind]['digits_found']:.2%} of {figures[kind]['digits']}, found digits "
                     f"right {figures[kind]['found_digits_right']:.2%}")
        print(f"{kind:<13} {figures[kind]['n']:>5} images: read exactly {figures[kind]['exact']:.2%}{extra}; "
              f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        ceiling = originals(kind, truth, predictor, sources)
        if ceiling:
            figures[kind]["originals_right_and_sure"] = ceiling
            figures[kind]["loss_points"] = 100 * (ceiling["digits"] - figures[kind]["digits_right"])
            print(f"{'':<13} its digits as 28x28 originals, straight to the model: right and sure "
                  f"{ceiling['digits']:.2%} of digits, every digit of a file {ceiling['files']:.2%}; read right "
                  f"through the reader {figures[kind]['digits_right']:.2%}: lost {figures[kind]['loss_points']:+.2f} "
                  "points per digit")
        if kind == "drawings":
            canvas = np.mean([predictor.read_canvas(image).text == str(truth[kind][name]["labels"][0])
                              for name, image in images.items()])
            figures[kind]["read_canvas_exact"] = float(canvas)
            print(f"{'':<13} the same drawings through read_canvas (the draw panel): {canvas:.2%}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

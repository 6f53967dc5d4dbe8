"""Accuracy and speed of the live readers on the fixtures of ``live_fixtures.py``.

    .venv/bin/python benchmarks/live_fixtures.py --out /tmp/live-fixtures
    .venv/bin/python benchmarks/live.py --fixtures /tmp/live-fixtures [--model cnn] [--repeats 3]

Accuracy (files read from disk, as ``workbench predict`` reads them):
- drawings: share of drawings whose digit is read right (unsure or nothing counts as wrong);
- pages: share of true digits found (a reading whose box holds the digit's centre), share of
  found digits read right, and share of pages whose text is exactly right.
Speed (decoded images in memory, after warm-up; ``--repeats`` passes over the fixtures):
- frame: ``Predictor.read_frame`` on each 640x480 page (find, normalise, one batched predict);
- canvas: ``Predictor.read_canvas`` on each 280x280 drawing (normalise and predict).
p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from workbench.live.images import read_image
from workbench.live.predictor import Predictor


def contains(box, truth_box) -> bool:
    x, y, w, h = truth_box
    cx, cy = x + w / 2, y + h / 2
    return box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]


def accuracy(predictor: Predictor, fixtures: Path, truth: dict) -> dict:
    right = sum(
        predictor.read_canvas(read_image(fixtures / name)).text == str(item["label"])
        for name, item in truth["drawings"].items()
    )
    n_true = found = read_right = exact = 0
    for name, item in truth["pages"].items():
        reading = predictor.read_frame(read_image(fixtures / name))
        n_true += len(item["labels"])
        for label, box in zip(item["labels"], item["boxes"], strict=True):
            match = [d for d in reading.digits if contains(d.box, box)]
            found += bool(match)
            read_right += bool(match) and match[0].label == label
        exact += reading.text == "".join(map(str, item["labels"]))
    return {
        "drawings_right": right / len(truth["drawings"]),
        "digits_found": found / n_true,
        "found_digits_right": read_right / max(found, 1),
        "pages_exact": exact / len(truth["pages"]),
        "n_drawings": len(truth["drawings"]),
        "n_pages": len(truth["pages"]),
        "n_page_digits": n_true,
    }


def speed(predictor: Predictor, images: list, read, repeats: int) -> tuple[float, float]:
    for image in images[:20]:
        read(image)  # warm-up
    times = []
    for _ in range(repeats):
        for image in images:
            start = time.perf_counter()
            read(image)
            times.append(time.perf_counter() - start)
    p50, p95 = np.percentile(times, [50, 95]) * 1e3
    return float(p50), float(p95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=Path("/tmp/live-fixtures"))
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    truth = json.loads((args.fixtures / "truth.json").read_text())
    predictor = Predictor(args.model)
    result = accuracy(predictor, args.fixtures, truth)
    pages = [read_image(args.fixtures / name) for name in truth["pages"]]
    drawings = [read_image(args.fixtures / name) for name in truth["drawings"]]
    frame_p50, frame_p95 = speed(predictor, pages, predictor.read_frame, args.repeats)
    canvas_p50, canvas_p95 = speed(predictor, drawings, predictor.read_canvas, args.repeats)
    n_digits = np.mean([len(p["labels"]) for p in truth["pages"].values()])
    print(f"model {args.model}, {os.cpu_count()} CPUs")
    print(f"drawings read right      {result['drawings_right']:.2%}  ({result['n_drawings']} drawings)")
    print(f"page digits found        {result['digits_found']:.2%}  ({result['n_page_digits']} digits)")
    print(f"found digits read right  {result['found_digits_right']:.2%}")
    print(f"pages read exactly       {result['pages_exact']:.2%}  ({result['n_pages']} pages)")
    print(f"frame 640x480 ({n_digits:.1f} digits avg)  p50 {frame_p50:.1f} ms  p95 {frame_p95:.1f} ms")
    print(f"canvas 280x280 + predict   p50 {canvas_p50:.2f} ms  p95 {canvas_p95:.2f} ms")


if __name__ == "__main__":
    main()

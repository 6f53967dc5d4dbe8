"""Write the live readers' test fixtures: drawings and page photos made from MNIST *test* digits.

    .venv/bin/python benchmarks/live_fixtures.py [--out /tmp/live-fixtures] [--drawings 1000] [--pages 300]

- ``drawings/NNNN.png``: one test digit re-drawn on a 280x280 canvas at a random size (15-90%
  of the canvas), position and brush width (2-14% of the digit's height), white on black or
  black on white (:func:`workbench.live.synth.redraw`);
- ``pages/NNNN.jpg``: a 640x480 photo (JPEG, quality 90) of a page holding 2-6 test digits in one
  or two lines, tilted up to 12 degrees, in perspective, under uneven light, with blur and
  noise; a quarter are light chalk on a dark board (:func:`workbench.live.synth.render_page`);
- ``truth.json``: each file's digits (labels in reading order, boxes) and MNIST test indices;
- ``sample.png``: a montage of the first drawings and pages (shown in the README).

Seeded: the same command writes the same files. No model was trained on the test split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from workbench.data import load_mnist
from workbench.live.synth import redraw, render_page


def make(out: Path, n_drawings: int, n_pages: int, seed: int = 0) -> dict:
    X, y = load_mnist("test")
    rng = np.random.default_rng(seed)
    (out / "drawings").mkdir(parents=True, exist_ok=True)
    (out / "pages").mkdir(parents=True, exist_ok=True)
    truth = {"drawings": {}, "pages": {}}
    for k, i in enumerate(rng.choice(len(X), n_drawings, replace=False)):
        name = f"drawings/{k:04d}.png"
        cv2.imwrite(str(out / name), redraw(X[i], rng))
        truth["drawings"][name] = {"label": int(y[i]), "index": int(i)}
    for k in range(n_pages):
        idx = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        page = render_page(X[idx], y[idx], rng)
        name = f"pages/{k:04d}.jpg"
        cv2.imwrite(str(out / name), page.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        truth["pages"][name] = {"labels": page.labels, "boxes": page.boxes, "indices": [int(i) for i in idx]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def montage(out: Path, path: Path) -> None:
    drawings = [cv2.imread(str(out / f"drawings/{k:04d}.png")) for k in range(8)]
    pages = [cv2.imread(str(out / f"pages/{k:04d}.jpg")) for k in range(4)]
    row1 = np.hstack([cv2.resize(d, (160, 160), interpolation=cv2.INTER_AREA) for d in drawings])
    row2 = np.hstack([cv2.resize(p, (320, 240), interpolation=cv2.INTER_AREA) for p in pages])
    cv2.imwrite(str(path), np.vstack([row1, row2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/live-fixtures"))
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    truth = make(args.out, args.drawings, args.pages)
    montage(args.out, args.out / "sample.png")
    n_digits = sum(len(p["labels"]) for p in truth["pages"].values())
    print(f"wrote {args.drawings} drawings and {args.pages} pages ({n_digits} digits) to {args.out}")


if __name__ == "__main__":
    main()

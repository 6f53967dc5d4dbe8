"""Write the live readers' test fixtures: drawings and page photos made from MNIST *test* digits.

    .venv/bin/python benchmarks/live_fixtures.py [--out DIR] [--drawings 1000] [--pages 300] [--others 300] [--seed 0]

- ``drawings/NNNN.png``: one test digit re-drawn on a 280x280 canvas at a random size (15-90%
  of the canvas), position and brush width (2-14% of the digit's height; the writer's filled
  loops stay filled), white on black or black on white (:func:`workbench.synth.redraw`);
- ``pages/NNNN.jpg``: a 640x480 photo (JPEG, quality 90) of a page holding 2-6 test digits in one
  or two lines, tilted up to 12 degrees, in perspective, under uneven light, with blur and
  noise; a quarter are light chalk on a dark board (:func:`workbench.synth.render_page`);
- ``printed/NNNN.png``: one printed digit in a font no model learned from (the second half of
  :func:`workbench.printed.font_halves`: every other one of OpenCV's Hershey fonts, Pillow's
  own font and the TrueType fonts installed here), light, regular, bold or ultra-bold, 20-85%
  of a 320x240 image, anywhere, either polarity (:func:`workbench.synth.printed`);
- ``closeups/NNNN.jpg``: one test digit written with a marker and held up to a 640x480 camera,
  30-95% of the frame height, strokes 4-25% of its height, perspective, uneven light, shadow
  (:func:`workbench.synth.closeup`);
- ``numbers/NNNN.jpg``: 2-4 test digits written large across the frame (35-75% of its height)
  (:func:`workbench.synth.large_number`);
- ``drawn_numbers/NNNN.png``: 2-4 test digits drawn in one line on a 280x560 canvas, one brush
  for the number (:func:`workbench.synth.drawn_number`): a drawing that holds a number;
- ``optdigits/NNNN.png``: each of the 1,797 digits of UCI optdigits (``sklearn.datasets.load_digits``:
  43 writers who are not MNIST's, 8x8) as a scanned file, 48-192 pixels high, either polarity
  (:func:`workbench.synth.scanned_digit`);
- ``optdigit_rows/NNNN.png``, ``rows/NNNN.png``: five optdigits, or five MNIST test digits,
  written in a row with gaps from touching to a digit's width apart, scanned
  (:func:`workbench.synth.scanned_row`);
- ``truth.json``: each file's digits (labels in reading order, boxes) and MNIST test indices
  (``indices``) or optdigits indices (``optdigits``);
- ``sample.png``: a montage of the first drawings and pages (shown in the README).

Seeded: the same command writes the same files. The README's figures are seed 0's; another seed
draws other digits, fonts and scenes, a held-out set to check that a change tuned on seed 0's
failures is not fitted to them. No model was trained on the test split.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from workbench.data import load_mnist
from workbench.printed import font_halves
from workbench.synth import (
    closeup,
    drawn_number,
    large_number,
    optdigits_as_mnist,
    printed,
    redraw,
    render_page,
    scanned_digit,
    scanned_row,
)

NEW_KINDS = ("optdigits", "optdigit_rows", "rows")


def make(out: Path, n_drawings: int, n_pages: int, n_others: int = 300, seed: int = 0) -> dict:
    """Write every kind of fixture to ``out``; returns the truth (also in ``truth.json``)."""
    X, y = load_mnist("test")
    rng = np.random.default_rng(seed)
    kinds = ("drawings", "pages", "printed", "closeups", "numbers", "drawn_numbers")
    for kind in kinds:
        (out / kind).mkdir(parents=True, exist_ok=True)
    truth = {kind: {} for kind in kinds}
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, 90]
    for k, i in enumerate(rng.choice(len(X), n_drawings, replace=False)):
        name = f"drawings/{k:04d}.png"
        cv2.imwrite(str(out / name), redraw(X[i], rng))
        truth["drawings"][name] = {"labels": [int(y[i])], "indices": [int(i)]}
    for k in range(n_pages):
        idx = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        page = render_page(X[idx], y[idx], rng)
        name = f"pages/{k:04d}.jpg"
        cv2.imwrite(str(out / name), page.image, jpeg)
        truth["pages"][name] = {"labels": page.labels, "boxes": page.boxes, "indices": [int(i) for i in idx]}
    fonts = font_halves()[1]  # the half no model learns from (the CNN and the gate learn the other)
    for k in range(n_others):
        label = int(rng.integers(10))
        image, font = printed(label, rng, fonts=fonts)
        name = f"printed/{k:04d}.png"
        cv2.imwrite(str(out / name), image)
        truth["printed"][name] = {"labels": [label], "font": font}
    for k, i in enumerate(rng.choice(len(X), n_others, replace=False)):
        frame, box = closeup(X[i], rng)
        name = f"closeups/{k:04d}.jpg"
        cv2.imwrite(str(out / name), frame, jpeg)
        truth["closeups"][name] = {"labels": [int(y[i])], "indices": [int(i)]}
    for k in range(n_others):
        idx = rng.choice(len(X), int(rng.integers(2, 5)), replace=False)
        name = f"numbers/{k:04d}.jpg"
        cv2.imwrite(str(out / name), large_number(X[idx], rng), jpeg)
        truth["numbers"][name] = {"labels": [int(v) for v in y[idx]], "indices": [int(i) for i in idx]}
    for k in range(n_others):  # last, so that adding this kind left the others' draws unchanged
        idx = rng.choice(len(X), int(rng.integers(2, 5)), replace=False)
        name = f"drawn_numbers/{k:04d}.png"
        cv2.imwrite(str(out / name), drawn_number(X[idx], rng))
        truth["drawn_numbers"][name] = {"labels": [int(v) for v in y[idx]], "indices": [int(i) for i in idx]}
    # Real handwriting from other writers, and rows of digits, after every kind above (whose
    # draws stay as they were): optdigits, 1,797 digits of 43 writers who are not MNIST's.
    from sklearn.datasets import load_digits

    optdigits = load_digits()
    digits28, labels = optdigits_as_mnist(optdigits.images), optdigits.target
    for kind in NEW_KINDS:
        (out / kind).mkdir(parents=True, exist_ok=True)
        truth[kind] = {}
    for k, i in enumerate(rng.permutation(len(labels))):
        name = f"optdigits/{k:04d}.png"
        cv2.imwrite(str(out / name), scanned_digit(digits28[i], rng))
        truth["optdigits"][name] = {"labels": [int(labels[i])], "optdigits": [int(i)]}
    for k in range(n_others):
        idx = rng.choice(len(labels), 5, replace=False)
        name = f"optdigit_rows/{k:04d}.png"
        cv2.imwrite(str(out / name), scanned_row(digits28[idx], rng))
        truth["optdigit_rows"][name] = {"labels": [int(v) for v in labels[idx]], "optdigits": [int(i) for i in idx]}
    for k in range(n_others):
        idx = rng.choice(len(X), 5, replace=False)
        name = f"rows/{k:04d}.png"
        cv2.imwrite(str(out / name), scanned_row(X[idx], rng))
        truth["rows"][name] = {"labels": [int(v) for v in y[idx]], "indices": [int(i) for i in idx]}
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def montage(out: Path, path: Path) -> None:
    """Rows of samples, 1280 pixels wide: drawings; printed digits; pages; close-ups; numbers."""
    def row(kind, count, size):
        suffix = "png" if kind in ("drawings", "printed") else "jpg"
        images = [cv2.imread(str(out / f"{kind}/{k:04d}.{suffix}")) for k in range(count)]
        return np.hstack([cv2.resize(i, size, interpolation=cv2.INTER_AREA) for i in images])

    rows = [row("drawings", 8, (160, 160)), row("printed", 8, (160, 120)), row("pages", 4, (320, 240)),
            row("closeups", 4, (320, 240)), row("numbers", 4, (320, 240))]
    cv2.imwrite(str(path), np.vstack(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/live-fixtures"))
    parser.add_argument("--drawings", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--others", type=int, default=300,
                        help="printed digits, close-ups, numbers and drawn numbers, each")
    parser.add_argument("--seed", type=int, default=0, help="another seed gives another, held-out set")
    args = parser.parse_args()
    truth = make(args.out, args.drawings, args.pages, args.others, seed=args.seed)
    montage(args.out, args.out / "sample.png")
    n_digits = sum(len(p["labels"]) for p in truth["pages"].values())
    print(f"wrote {args.drawings} drawings, {args.pages} pages ({n_digits} digits), {args.others} printed digits, "
          f"close-ups, numbers, drawn numbers, optdigit rows and rows each, and {len(truth['optdigits'])} optdigits "
          f"to {args.out}")


if __name__ == "__main__":
    main()

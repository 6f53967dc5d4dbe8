"""Digits written touching: where to cut a blob that may be two digits run together.

The frame reader finds digits as connected blobs of ink; two digits written touching (no gap, or
a slanted stroke reaching the next one) are one blob, which the model reads as one digit, unsure,
or which the gate refuses. Where to cut is not a rule of widths (a flat 2 or a wide 0 is as wide
as two narrow digits): the Predictor reads the pieces of each cut proposed here and keeps a cut
only when the model is sure of every piece and the gate takes each for a digit (segmentation by
recognition, :meth:`workbench.live.predictor.Predictor.read_frame`).
"""

from __future__ import annotations

import numpy as np

from workbench.live.ink import ink_to_mnist

# A blob is tried in pieces when the model alone is unsure of it (its top probability under
# WHOLE_UNSURE, whatever the gate says) and it is at least MIN_WIDTH times as wide as the taller
# of its own height and its line's digits' median height: two digits run together. Letters and
# scribbles are mostly narrower, and the model is mostly sure of them (the gate refuses them).
MIN_WIDTH = 1.15
WHOLE_UNSURE = 0.9
# Cuts are tried at the columns of least ink between MARGIN and 1 - MARGIN of the blob's width,
# the CUTS best of them, where the ink crosses the column once (a bridge between two digits,
# not the strokes of a loop or a scribble) and over at most BRIDGE of the blob's height.
MARGIN = 0.2
CUTS = 3
BRIDGE = 0.35
# A cut stands when the model reads every piece at least this surely and the gate (at its
# threshold for photos) takes each for a digit, and the pieces are not all 1s (a V, U, W, X or Y
# cut at its vertex gives two strokes read as 1s).
SURE = 0.95


def _runs(column: np.ndarray) -> int:
    """How many separate runs of ink a column of a mask crosses."""
    return int(np.count_nonzero(np.diff(np.concatenate(([0], column.astype(np.int8), [0]))) == 1))


def cut_columns(strokes: np.ndarray) -> list[int]:
    """The columns of a blob's stroke mask where it may be two digits touching, best first:
    the columns of least ink crossed by one short run, at least two columns apart."""
    h, w = strokes.shape
    ink = strokes.sum(axis=0)
    lo, hi = max(1, int(MARGIN * w)), min(w - 1, int(np.ceil((1 - MARGIN) * w)))
    chosen: list[int] = []
    for x in sorted(range(lo, hi), key=lambda x: (ink[x], abs(x - w / 2))):
        if len(chosen) == CUTS:
            break
        if ink[x] > BRIDGE * h or _runs(strokes[:, x]) > 1 or any(abs(x - c) < 2 for c in chosen):
            continue
        chosen.append(x)
    return chosen


def _trimmed(strokes: np.ndarray, x0: int) -> tuple[np.ndarray, int, int] | None:
    """A piece of a mask cut to its ink, with its offset (x, y) in the mask it came from."""
    rows, cols = np.flatnonzero(strokes.any(axis=1)), np.flatnonzero(strokes.any(axis=0))
    if not len(rows):
        return None
    return strokes[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], x0 + int(cols[0]), int(rows[0])


def pieces(box, strokes: np.ndarray, scale: float, x: int):
    """The two pieces of a blob cut at column ``x`` of its stroke mask (``scale`` times frame
    pixels, the box in frame pixels): ``[(box, image), (box, image)]`` with boxes in frame
    pixels and MNIST-format images, or None when a side holds no ink."""
    out = []
    for part, x0 in ((strokes[:, :x], 0), (strokes[:, x:], x)):
        trimmed = _trimmed(part, x0)
        if trimmed is None:
            return None
        mask, px, py = trimmed
        frame_box = (box[0] + int(round(px / scale)), box[1] + int(round(py / scale)),
                     max(1, int(round(mask.shape[1] / scale))), max(1, int(round(mask.shape[0] / scale))))
        out.append((frame_box, ink_to_mnist(mask.astype(np.float32))))
    return out

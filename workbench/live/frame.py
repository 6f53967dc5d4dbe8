"""The frame reader: every digit in a photo or camera frame, in reading order.

grayscale -> denoise -> which way the ink goes -> adaptive threshold -> connected components
-> merge the pieces of broken digits -> drop what is not a digit -> cut each digit out and
bring it to the MNIST convention (:func:`workbench.live.ink.ink_to_mnist`) -> classify all of
them in one batch -> order them left to right, line by line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from workbench.live.images import as_gray
from workbench.live.ink import ink_to_mnist

# Frames are read at most this many pixels on the longer side (boxes are mapped back), which
# bounds the time and memory of a frame of any size.
WORK_SIDE = 800
MIN_HEIGHT_FRACTION = 0.03  # of the frame height: smaller blobs are specks
MAX_HEIGHT_FRACTION = 0.9


@dataclass(frozen=True)
class Candidate:
    """A blob that looks like one digit: its box ``(x, y, w, h)`` in frame pixels and its
    MNIST-format 28x28 image."""

    box: tuple[int, int, int, int]
    image: np.ndarray


def ink_mask(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ink image (ink bright) and binary ink mask of a smoothed grayscale frame.

    Ink is what stands out from its neighbourhood (a window about a digit wide), which copes
    with uneven light. Which way it stands out follows from the residual's tails: strokes are a
    heavy tail on one side, while page edges and light gradients are symmetric.
    """
    fh, fw = gray.shape
    block = (max(fh, fw) // 10) | 1
    residual = gray.astype(np.int16) - cv2.blur(gray, (block, block)).astype(np.int16)
    # Polarity from the 0.2% tails: small thin digits on a large page can cover less than 0.5%
    # of the frame, and then the 0.5% tails are the page's edges, not the strokes (fixtures:
    # 97.9% of digits found with 0.5%, 99.7% with 0.2%). The threshold keeps the 0.5% tail.
    lo2, lo5, hi5, hi2 = np.percentile(residual[::3, ::3], (0.2, 0.5, 99.5, 99.8))
    dark = -lo2 > hi2
    tail = -lo5 if dark else hi5
    offset = max(8.0, 0.2 * tail)  # keeps paper texture and sensor noise out
    mask = (residual < -offset) if dark else (residual > offset)
    ink = 255 - gray if dark else gray
    return ink, mask.astype(np.uint8)


def _merge_pieces(boxes: list[list[int]], limit: float) -> list[list[int]]:
    """Merge the boxes ``[x0, y0, x1, y1, ids...]`` of one broken digit (the bar of a 5):
    overlapping in x, close in y, together no larger than ``limit`` pixels either way."""
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                (x0, y0, x1, y1, *_), (u0, v0, u1, v1, *_) = boxes[i], boxes[j]
                overlap_x = min(x1, u1) - max(x0, u0)
                gap_y = max(v0 - y1, y0 - v1)
                touching = overlap_x >= -0.05 * limit and gap_y <= 0
                union = [min(x0, u0), min(y0, v0), max(x1, u1), max(y1, v1)]
                if (
                    (touching or overlap_x >= 0.25 * min(x1 - x0, u1 - u0) and gap_y <= 0.15 * limit)
                    and max(union[2] - union[0], union[3] - union[1]) <= limit
                ):
                    boxes[i] = [*union, *boxes[i][4:], *boxes[j][4:]]
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def _piece(labels: np.ndarray, ids) -> np.ndarray:
    return labels == ids[0] if len(ids) == 1 else np.isin(labels, ids)


def _surrounded(ink, labels, x0, y0, x1, y1, ids) -> bool:
    """Whether a blob is ink with background all around it (in a margin of a fifth of its
    height), as a digit is; the edge of a page or a shadow has background on one side only."""
    fh, fw = ink.shape
    margin = max(2, (y1 - y0) // 5)
    x0, y0, x1, y1 = max(0, x0 - margin), max(0, y0 - margin), min(fw, x1 + margin), min(fh, y1 + margin)
    piece = _piece(labels[y0:y1, x0:x1], ids)
    crop = ink[y0:y1, x0:x1]
    ring = crop[~cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)]
    if ring.size == 0:
        return False
    background, surround = np.percentile(ring, (25, 75))
    return surround <= 0.5 * (background + np.median(crop[piece]))


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of ``boxes`` in reading order: left to right, line by line.

    Lines are chained from left to right (a box joins the line whose last box it overlaps most
    in height), so that the lines of a tilted page stay apart.
    """
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][0] + boxes[i][2] / 2)
    lines: list[list[int]] = []
    for i in order:
        _, y, _, h = boxes[i]
        best, best_overlap = None, 0.4
        for line in lines:
            _, ly, _, lh = boxes[line[-1]]
            overlap = (min(y + h, ly + lh) - max(y, ly)) / min(h, lh)
            if overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None:
            lines.append([i])
        else:
            best.append(i)
    lines.sort(key=lambda line: np.mean([boxes[i][1] + boxes[i][3] / 2 for i in line]))
    return [i for line in lines for i in line]


def find_digits(frame) -> list[Candidate]:
    """Find the digits in a frame (BGR, BGRA or grayscale, any size), in reading order.

    Dark ink on light paper and light ink on a dark background both work. Specks, page edges,
    lines, blobs too large or of the wrong shape, and anything touching the frame's border are
    dropped.

    Examples
    --------
    >>> page = np.full((240, 320), 230, np.uint8)
    >>> _ = cv2.putText(page, "42", (100, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 20, 9)
    >>> [c.box[0] < 160 for c in find_digits(page)]
    [True, False]
    """
    gray = as_gray(frame)
    scale = min(1.0, WORK_SIDE / max(gray.shape))
    if scale < 1:  # explicit size: a 1 x 3000 strip must stay at least one pixel high
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    fh, fw = gray.shape
    smooth = cv2.GaussianBlur(gray, (5, 5), 0)
    ink, mask = ink_mask(smooth)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    min_height = max(6, MIN_HEIGHT_FRACTION * fh)

    def looks_like_digit(x0, y0, x1, y1, *ids) -> bool:
        w, h = x1 - x0, y1 - y0
        area = stats[ids, cv2.CC_STAT_AREA].sum()
        return (
            min_height <= h <= MAX_HEIGHT_FRACTION * fh
            and 0.08 <= w / h <= 2.0  # a "1" is narrow, some 2s and 5s are flat
            and 0.06 <= area / (w * h) <= 0.85  # lines and frames are sparse, blots solid
            and _surrounded(ink, labels, x0, y0, x1, y1, ids)
        )

    pieces = [
        [x, y, x + w, y + h, i]
        for i, (x, y, w, h, area) in enumerate(stats[1:count], start=1)
        if area >= 0.1 * min_height**2 / 4 and x > 0 and y > 0 and x + w < fw and y + h < fh  # off the border
    ]
    # The digits of one page have similar heights: whole digits set the scale, which tells
    # the pieces of a broken digit (merged) from page edges, lines and specks (dropped).
    whole = [b for b in pieces if looks_like_digit(*b)]
    if not whole:
        return []
    typical = float(np.median([b[3] - b[1] for b in whole]))
    pieces = [b for b in pieces if max(b[2] - b[0], b[3] - b[1]) <= 2 * typical]
    candidates = [
        b for b in _merge_pieces(pieces, 1.6 * typical)
        if 0.5 * typical <= b[3] - b[1] <= 2 * typical and (b in whole or looks_like_digit(*b))
    ]
    found = []
    for x0, y0, x1, y1, *ids in candidates:
        piece = _piece(labels[y0:y1, x0:x1], ids)
        crop = ink[y0:y1, x0:x1]
        # Re-threshold the digit's own pixels (Otsu within its box): strokes keep their width
        # whatever the local light; the component mask keeps neighbours out.
        level, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        near = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        image = ink_to_mnist(((crop > level) & near).astype(np.float32))
        if image is not None:
            box = tuple(int(round(v / scale)) for v in (x0, y0, x1 - x0, y1 - y0))
            found.append(Candidate(box, image))
    return [found[i] for i in reading_order([c.box for c in found])]


@dataclass(frozen=True)
class Digit:
    """One digit read from an image: its box ``(x, y, w, h)``, the label (None when unsure),
    the confidence (the top class probability), every class's probability and the 28x28
    image the model saw."""

    box: tuple[int, int, int, int]
    label: int | None
    confidence: float
    probabilities: np.ndarray = field(repr=False)
    image: np.ndarray = field(repr=False)

    @property
    def text(self) -> str:
        return "?" if self.label is None else str(self.label)


@dataclass(frozen=True)
class Reading:
    """All digits of one frame in reading order, the model that read them and the time taken."""

    digits: list[Digit]
    model: str
    model_sha256: str
    seconds: float

    @property
    def text(self) -> str:
        """The labels in reading order, unsure digits as ``?``."""
        return "".join(d.text for d in self.digits)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "digits": [
                {"label": d.label, "confidence": round(d.confidence, 4), "box": list(d.box)} for d in self.digits
            ],
        }

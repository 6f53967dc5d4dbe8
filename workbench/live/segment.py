"""One pass of the frame reader's segmentation: the ink's connected components, the pieces of
broken digits merged, what is not a digit dropped, each digit's strokes cut out.

:func:`segment` runs it at one resolution with one of the ink masks of
:mod:`workbench.live.masks`; :func:`workbench.live.frame.find_digits` runs a fine and a coarse
pass and decides between their findings (:class:`Found`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from workbench.live.ink import ink_to_mnist
from workbench.live.masks import components, ink_mask, large_ink_mask
from workbench.transforms import _paste

MAX_HEIGHT_FRACTION = 0.97  # of the frame height: taller blobs are the frame's content, not a digit
SPECK_FRACTION = 0.4  # a round solid dot less than this share of the digits' height is a speck
MAX_ASPECT = 2.5  # widest digit box, width over height (a flat 5 in perspective: 2.2)
MERGE_LIMIT = 1.6  # the pieces of one broken digit span at most this many digit heights


def merge_pieces(boxes: list[list[int]], typical: float) -> list[list[int]]:
    """Merge the boxes ``[x0, y0, x1, y1, ids...]`` of one broken digit (the bar of a 5):
    overlapping in x, close in y, together no larger than 1.6 digit heights (``typical``) either
    way; a part less than half a digit high (a 5's bar, a 7's stroke) may make the whole up to
    two digit heights wide (a 5 whose bar stands apart measured 1.8)."""
    limit = MERGE_LIMIT * typical
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
                widest = 2 * typical if min(y1 - y0, v1 - v0) < 0.5 * typical else limit
                if (
                    (touching or overlap_x >= 0.25 * min(x1 - x0, u1 - u0) and gap_y <= 0.15 * limit)
                    and union[2] - union[0] <= widest and union[3] - union[1] <= limit
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


def fill_inked_holes(piece: np.ndarray, crop: np.ndarray, level: float) -> np.ndarray:
    """``piece`` with those of its holes filled that are ink through and through: 90% of their
    pixels above ``level`` in ``crop``, with a median at least 90% of the piece's own. The local
    threshold, whose window is small next to an ultra-bold stroke, can leave a stroke's middle
    out: a bold 7 came out with a hole whose outline the thinning turned into a loop (read 9 or
    unsure). A real counter is paper, and a shadowed one is fainter than the strokes: both stay
    open."""
    outlines, hierarchy = cv2.findContours(piece.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    filled, stroke = piece, None
    for outline, (_, _, _, parent) in zip(outlines, hierarchy[0] if hierarchy is not None else [], strict=True):
        if parent < 0:
            continue  # an outer outline; a hole's has the piece around it as its parent
        x, y, w, h = cv2.boundingRect(outline)
        inside = cv2.drawContours(np.zeros((h, w), np.uint8), [outline], -1, 1, cv2.FILLED, offset=(-x, -y))
        inside = inside.astype(bool) & ~piece[y : y + h, x : x + w]
        values = crop[y : y + h, x : x + w][inside]
        if values.size == 0 or np.count_nonzero(values > level) < 0.9 * values.size:
            continue
        if stroke is None:
            stroke = _quantiles(crop[piece], (0.5,))[0]
        if _quantiles(values, (0.5,))[0] >= 0.9 * stroke:
            filled = filled.copy() if filled is piece else filled
            filled[y : y + h, x : x + w] |= inside
    return filled


def _surrounded(ink, labels, stats, x0, y0, x1, y1, ids) -> bool:
    """Whether a blob is ink with background all around it (in a margin of a fifth of its
    height), as a digit is; the edge of a page or a shadow has background on one side only.
    A pen stroke whose margin is partly in shadow is measured against the paper around it."""
    fh, fw = ink.shape
    h, w = y1 - y0, x1 - x0
    margin = max(2, h // 5)
    x0, y0, x1, y1 = max(0, x0 - margin), max(0, y0 - margin), min(fw, x1 + margin), min(fh, y1 + margin)
    piece = _piece(labels[y0:y1, x0:x1], ids)
    crop = ink[y0:y1, x0:x1]
    near = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ring = crop[~near]
    if ring.size == 0:
        return False
    background, surround = _quantiles(ring, (0.25, 0.75))
    stroke = _quantiles(crop[piece], (0.5,))[0]
    if surround <= 0.5 * (background + stroke):
        return True
    # A shadow over part of the margin darkens the paper there, and only slowly: measured
    # against the paper around it (the ink with strokes removed by an opening three strokes
    # wide), a pen stroke still stands out all round, while a page's edge is part of a dark
    # region that the opening keeps. Only where the margin is lighter than the strokes, for
    # strokes (not blots), and for a digit whose largest piece spans it (pieces of a shadow's
    # edge can join a digit).
    if surround > background + 0.8 * (stroke - background):
        return False
    largest = ids[int(np.argmax(stats[list(ids), cv2.CC_STAT_AREA]))]
    spans = stats[largest, cv2.CC_STAT_WIDTH] >= 0.9 * w and stats[largest, cv2.CC_STAT_HEIGHT] >= 0.9 * h
    width = 2 * _thickest(piece)
    if width > 0.15 * h or not spans:
        return False
    step = max(1, int(width // 3))  # opened where a stroke is about 3 pixels wide: fast at any size
    small = cv2.resize(crop, (max(1, crop.shape[1] // step), max(1, crop.shape[0] // step)),
                       interpolation=cv2.INTER_AREA)
    paper = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((int(3 * width / step) | 1,) * 2, np.uint8))
    flat = cv2.subtract(crop, cv2.resize(paper, crop.shape[::-1], interpolation=cv2.INTER_LINEAR))
    flat_background, flat_surround = _quantiles(flat[~near], (0.25, 0.75))
    flat_stroke = _quantiles(flat[piece], (0.5,))[0]  # keeping a third of its contrast, at least
    return flat_stroke >= (stroke - background) / 3 and flat_surround <= 0.5 * (flat_background + flat_stroke)


def _quantiles(values: np.ndarray, qs) -> list[float]:
    """Lower quantiles of a 1-D uint8 array, exactly, from its histogram (np.percentile, or
    even a partial sort, takes most of the frame reader's time on the pixels around large
    blobs)."""
    ranks = [min(values.size - 1, int(q * values.size)) for q in qs]
    cumulative = np.bincount(values, minlength=256).cumsum()
    return [float(v) for v in np.searchsorted(cumulative, ranks, side="right")]


@dataclass
class Found:
    """A digit one segmentation pass found: its box in frame pixels, its stroke mask in the
    pass's own pixels (``scale`` times frame pixels), and which way its ink went (True: dark
    on light)."""

    box: tuple[int, int, int, int]
    strokes: np.ndarray
    scale: float
    dark: bool

    @cached_property
    def image(self) -> np.ndarray:
        """Its 28x28 MNIST-format image, made only for the findings kept (both passes find
        most digits, and this is a third of the reader's time per finding)."""
        return ink_to_mnist(self.strokes.astype(np.float32))

    @property
    def area(self) -> float:
        """Ink area in frame pixels."""
        return float(self.strokes.sum()) / self.scale**2

    @property
    def solidity(self) -> float:
        """Ink area over the area of its convex hull: near 1 for a sheet or a board, lower for a
        digit (its holes and bays)."""
        return _solidity(self.strokes)

    @property
    def fill(self) -> float:
        """Share of its box that is ink."""
        return float(self.strokes.mean())

    def covered_by(self, other: Found) -> float:
        """Share of this digit's strokes that ``other``'s strokes (another pass's finding of
        the same digit) cover: low when ``other`` saw only the outline of thick strokes."""
        mine = np.zeros_like(self.strokes, dtype=np.float32)
        x, y, w, h = (int(round(v * self.scale)) for v in other.box)
        X, Y = (int(round(v * self.scale)) for v in self.box[:2])
        theirs = cv2.resize(other.strokes.astype(np.float32), (max(1, w), max(1, h)), interpolation=cv2.INTER_AREA)
        _paste(mine, theirs, y - Y, x - X)
        return float(((mine > 0.5) & self.strokes).sum()) / max(1, int(self.strokes.sum()))

    def covers(self, box) -> float:
        """Share of ``box`` (frame pixels) that this digit's strokes cover."""
        x, y, w, h = (int(round(v * self.scale)) for v in box)
        X, Y = (int(round(v * self.scale)) for v in self.box[:2])
        sub = self.strokes[max(0, y - Y) : max(0, y - Y + h), max(0, x - X) : max(0, x - X + w)]
        return float(sub.sum()) / max(1, w * h)


def segment(gray: np.ndarray, side: int, min_height_fraction: float, large: bool = False,
             drawing: bool = False) -> list[Found]:
    """One pass of ink segmentation of a grayscale frame, read at most ``side`` pixels on the
    longer side, with :func:`ink_mask` or (``large``) :func:`large_ink_mask`. Blobs touching
    the frame's border are dropped (objects cut by the frame, page edges) unless the frame is
    a ``drawing``, where nothing runs off the frame."""
    scale = min(1.0, side / max(gray.shape))
    if scale < 1:  # explicit size: a 1 x 3000 strip must stay at least one pixel high
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    fh, fw = gray.shape
    smooth = cv2.GaussianBlur(gray, (5, 5), 0)
    ink, mask, dark = large_ink_mask(smooth) if large else ink_mask(smooth)
    count, labels, stats, _ = components(mask)
    min_height = max(6, min_height_fraction * fh)

    def looks_like_digit(x0, y0, x1, y1, *ids) -> bool:
        w, h = x1 - x0, y1 - y0
        area = stats[ids, cv2.CC_STAT_AREA].sum()
        return (
            min_height <= h <= MAX_HEIGHT_FRACTION * fh
            and 0.02 <= w / h <= MAX_ASPECT  # a "1" is narrow, some 2s and 5s are flat
            # lines and frames are sparse, blots solid; a straight "1" is a solid bar
            and 0.06 <= area / (w * h) <= (1.0 if w / h < 0.35 else 0.85)
            and _surrounded(ink, labels, stats, x0, y0, x1, y1, ids)
        )

    pieces = [
        [x, y, x + w, y + h, i]
        for i, (x, y, w, h, area) in enumerate(stats[1:count], start=1)
        if area >= 0.1 * min_height**2 / 4 and (drawing or (x > 0 and y > 0 and x + w < fw and y + h < fh))
    ]
    # The digits of one page have similar heights: whole digits set the scale, which tells
    # the pieces of a broken digit (merged) from page edges, lines and specks (dropped). In
    # the coarse pass (one to four large digits) the tallest sets it: a large digit in two
    # pieces would otherwise halve it.
    whole = [b for b in pieces if looks_like_digit(*b)]
    if not whole:
        return []
    # A round solid dot is no digit's stroke: a pen's touch or a speck of dust beside a digit.
    dots = [b for b in pieces if _dot(b, stats)]
    heights = [b[3] - b[1] for b in [b for b in whole if b not in dots] or whole]
    typical = float(max(heights) if large else np.median(heights))
    pieces = [b for b in pieces if max(b[2] - b[0], b[3] - b[1]) <= MAX_ASPECT * typical
              and not (b in dots and max(b[2] - b[0], b[3] - b[1]) < SPECK_FRACTION * typical)]
    candidates = [
        b for b in merge_pieces(pieces, typical)
        if 0.5 * typical <= b[3] - b[1] <= 2 * typical and (b in whole or looks_like_digit(*b))
    ]
    found = []
    for x0, y0, x1, y1, *ids in candidates:
        piece = _piece(labels[y0:y1, x0:x1], ids)
        crop = ink[y0:y1, x0:x1]
        # Re-threshold the digit's own pixels (Otsu within its box): strokes keep their width
        # whatever the local light; the component mask keeps neighbours out.
        level, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if not large and y1 - y0 >= 0.15 * max(fh, fw):  # strokes that can be wide next to the window
            piece = fill_inked_holes(piece, crop, level)
        near = cv2.dilate(piece.astype(np.uint8), np.ones((3, 3), np.uint8))
        strokes = (crop > level) & near.astype(bool)
        if strokes.sum() < 0.5 * piece.sum():
            # Most of the piece is under the digit's own level: a shadow's edge across it, not
            # ink and paper, divides its pixels (a light 1 whose lit foot alone passed). The
            # piece, thresholded against its neighbourhood, is the digit.
            strokes = piece.astype(bool)
        # Strokes, not a solid: even a marker stroke a quarter of the digit thick leaves no
        # point farther than a quarter of its size from the paper (an ultra-bold printed 4:
        # 0.31); a sheet or a round blot does (0.5).
        if large and (_thickest(strokes) > 0.33 * max(strokes.shape) or _sheet(strokes)):
            continue
        if strokes.any():
            box = tuple(int(round(v / scale)) for v in (x0, y0, x1 - x0, y1 - y0))
            found.append(Found(box, strokes, scale, dark))
    return found


def round_solid(w: float, h: float, fill: float) -> bool:
    """Whether a blob of box ``w`` x ``h``, ``fill`` of it ink, is a round solid dot (a pen's
    touch, dust)."""
    return 0.6 <= w / h <= 1.7 and fill >= 0.6


def _dot(piece, stats) -> bool:
    """Whether a piece ``[x0, y0, x1, y1, id]`` is a round solid dot."""
    x0, y0, x1, y1, *ids = piece
    w, h = x1 - x0, y1 - y0
    return len(ids) == 1 and round_solid(w, h, stats[ids[0], cv2.CC_STAT_AREA] / (w * h))


def _outlines(mask: np.ndarray) -> list[np.ndarray]:
    return list(cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0])


def _solidity(mask: np.ndarray, outlines: list[np.ndarray] | None = None) -> float:
    outlines = _outlines(mask) if outlines is None else outlines
    hull = cv2.contourArea(cv2.convexHull(np.concatenate(outlines))) if outlines else 0.0
    return float(mask.sum()) / hull if hull > 0 else 0.0


def _sheet(mask: np.ndarray) -> bool:
    """Whether a mask is a sheet or a board: a solid quadrilateral, not as narrow as a bold 1."""
    h, w = mask.shape
    if not 0.4 <= w / h <= 2.5:
        return False
    outlines = _outlines(mask)
    if _solidity(mask, outlines) < 0.95:
        return False
    outline = max(outlines, key=cv2.contourArea)
    return len(cv2.approxPolyDP(outline, 0.04 * cv2.arcLength(outline, True), True)) == 4


def _thickest(mask: np.ndarray) -> float:
    """Distance from the paper of the mask's deepest point (half its thickest stroke)."""
    return float(cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 3).max())

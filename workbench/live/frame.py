"""The frame reader: every digit in a photo or camera frame, in reading order.

grayscale -> denoise -> which way the ink goes -> adaptive threshold -> connected components
-> merge the pieces of broken digits -> drop what is not a digit -> cut each digit out and
bring it to the MNIST convention (:func:`workbench.live.ink.ink_to_mnist`) -> classify all of
them in one batch -> order them left to right, line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from workbench.live.images import as_gray
from workbench.live.ink import ink_to_mnist
from workbench.transforms import _paste

# Frames are read at most this many pixels on the longer side (boxes are mapped back), which
# bounds the time and memory of a frame of any size.
WORK_SIDE = 800
COARSE_SIDE = 320  # the coarse pass, for large digits
MIN_HEIGHT_FRACTION = 0.03  # of the frame height: smaller blobs are specks
LARGE_HEIGHT_FRACTION = 0.2  # the coarse pass looks for digits at least this high
MAX_HEIGHT_FRACTION = 0.97
SPECK_FRACTION = 0.4  # a round solid dot less than this share of the digits' height is a speck
LINE_REACH = 0.8  # a box farther than this many digit heights from a line's course starts a new line
MAX_ASPECT = 2.5  # widest digit box, width over height (a flat 5 in perspective: 2.2)


@dataclass(frozen=True)
class Candidate:
    """A blob that looks like one digit: its box ``(x, y, w, h)`` in frame pixels and its
    MNIST-format 28x28 image."""

    box: tuple[int, int, int, int]
    image: np.ndarray


def ink_mask(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ink image (ink bright), binary ink mask and polarity (True: dark ink) of a smoothed
    grayscale frame.

    Ink is what stands out from its neighbourhood (a window a tenth of the frame wide: about a
    digit wide on a page), which copes with uneven light. Which way
    it stands out follows from the residual's tails: strokes are a heavy tail on one side,
    while page edges and light gradients are symmetric.
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
    return ink, mask.astype(np.uint8), bool(dark)


def large_ink_mask(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ink image, mask and polarity for large digits with strokes of any width (the coarse pass).

    Ink is measured against the paper behind it: the frame with its strokes removed by a
    closing (dark ink) or an opening (light ink) half the frame wide, computed at a quarter of
    the resolution, and as a ratio to it, so that a shadow darkens ink and paper alike. Unlike
    a local mean, this follows a shadow's edge, and a stroke a quarter of the digit thick is
    ink through and through, not only at its edges. The level between ink and paper is Otsu's,
    over the whole frame. The ink is what lies farther from the paper the frame's border shows,
    unless that leaves no blob clear of the border and the other way round does, or that "ink"
    covers much of the border and the other way round's does not: a shadow over the border
    makes the border's paper dark and the lit paper look like light ink.
    """
    fh, fw = gray.shape
    small = cv2.resize(gray, (max(1, fw // 4), max(1, fh // 4)), interpolation=cv2.INTER_AREA)
    window = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, max(small.shape) // 2) | 1,) * 2)
    border = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[:, :2].ravel(), gray[:, -2:].ravel()])
    paper_level = float(np.median(border))
    lo, hi = np.percentile(gray[::2, ::2], (0.1, 99.9))  # thin strokes can cover under 1%
    likely = paper_level - lo > hi - paper_level  # ink: the far side from the border's paper
    found = []
    big_enough = LARGE_HEIGHT_FRACTION**2 * fh * fw / 10  # a clear blob this big settles it...
    much_border = 0.02 * fh * fw  # ... unless this much "ink" reaches the frame's border
    for dark in (likely, not likely):
        if found and found[0][0] >= big_enough and found[0][1] <= much_border:
            break
        paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE if dark else cv2.MORPH_OPEN, window)
        paper = cv2.resize(cv2.blur(paper, (3, 3)), (fw, fh), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        if dark:
            ink = 255 * (1 - gray / np.maximum(paper, 1))
        else:
            ink = 255 * (gray - paper) / np.maximum(255 - paper, 1)
        ink = np.clip(ink, 0, 255).astype(np.uint8)
        level, mask = cv2.threshold(ink, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        if level < 8:
            mask[:] = 0
        score, on_border = _blobs(mask)
        if not found and score < big_enough and on_border > much_border:
            # Three levels, not two: a hard shadow's edge across the frame, which the paper
            # window bridges, makes the shadowed paper "ink" that joins the digit and reaches
            # the border. The digit is the darker ink above the shadow: Otsu's level among
            # the ink only. Only on the likely side (the border's paper): on the other, the
            # "ink" is lit paper between shadows, and its upper level a patch of it.
            upper = ink[ink > level]
            higher = cv2.threshold(upper.reshape(1, -1), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
            inkier = (ink > higher).astype(np.uint8)
            inkier_score, inkier_border = _blobs(inkier)
            if inkier_score >= big_enough and inkier_border <= much_border:
                mask, score, on_border = inkier, inkier_score, inkier_border
        found.append((score, on_border, ink, mask, dark))
    if len(found) == 1:
        return tuple(found[0][2:])
    (score, on_border, *likely_ink), (other_score, other_on_border, *other_ink) = found
    # Ink held up to the camera stays inside the frame; paper reaches its border. A side whose
    # "ink" covers much of the border is paper (a shadow over the border made the border's
    # paper look dark and the lit paper look like light ink).
    if on_border > much_border and other_on_border < 0.25 * on_border and other_score:
        return tuple(other_ink)
    # The border's side wins unless its ink is all paper reaching the border (a shadow over
    # most of the border makes the paper look dark) while the other side has a clear blob.
    return tuple(other_ink) if score < 0.25 * other_score else tuple(likely_ink)


def _blobs(mask: np.ndarray) -> tuple[int, int]:
    """The area of a mask's largest blob clear of the frame's border, and the area of all its
    blobs that touch the border."""
    fh, fw = mask.shape
    count, _, stats, _ = _components(mask)
    x, y, w, h, area = stats[1:count].T if count > 1 else np.zeros((5, 0), int)
    clear = (x > 0) & (y > 0) & (x + w < fw) & (y + h < fh)
    return (int(area[clear].max()) if clear.any() else 0), int(area[~clear].sum())


def _components(mask: np.ndarray):
    """Connected components (8-connected) of a binary mask with their stats. Grana's algorithm
    gives the same labels as OpenCV's default (Spaghetti) and, single-threaded, computes the
    stats in under half the time (0.72 vs 1.9 ms on a 640x480 frame)."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)


def _merge_pieces(boxes: list[list[int]], typical: float) -> list[list[int]]:
    """Merge the boxes ``[x0, y0, x1, y1, ids...]`` of one broken digit (the bar of a 5):
    overlapping in x, close in y, together no larger than 1.6 digit heights (``typical``) either
    way; a part less than half a digit high (a 5's bar, a 7's stroke) may make the whole up to
    two digit heights wide (a 5 whose bar stands apart measured 1.8)."""
    limit = 1.6 * typical
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


def _with_inked_holes(piece: np.ndarray, crop: np.ndarray, level: float) -> np.ndarray:
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


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of ``boxes`` in reading order: left to right, line by line.

    Lines are chained from left to right: a box joins the line it continues best, its centre
    within ``LINE_REACH`` digit heights of the line's last box or of where the line's slope so far
    puts it, so that the lines of a tilted page stay apart and stay whole.
    """
    centres = [(x + w / 2, y + h / 2, h) for x, y, w, h in boxes]
    lines: list[list[int]] = []
    for i in sorted(range(len(boxes)), key=lambda i: centres[i][0]):
        cx, cy, h = centres[i]
        best, best_distance = None, LINE_REACH
        for line in lines:
            (fx, fy, _), (lx, ly, lh) = centres[line[0]], centres[line[-1]]
            slope = (ly - fy) / (lx - fx) if lx - fx > 0 else 0.0
            distance = min(abs(cy - ly), abs(cy - ly - slope * (cx - lx))) / ((h + lh) / 2)
            if distance < best_distance:
                best, best_distance = line, distance
        if best is None:
            lines.append([i])
        else:
            best.append(i)
    lines.sort(key=lambda line: np.mean([centres[i][1] for i in line]))
    return [i for line in lines for i in line]


@dataclass
class _Found:
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

    def covered_by(self, other: _Found) -> float:
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


def drawn(gray: np.ndarray) -> bool:
    """Whether a grayscale frame is a drawing (a saved canvas): half of it or more exactly the
    background's level, which no camera or scanner gives (sensor noise, paper texture)."""
    # From the histogram (0.2 ms on a 640x480 frame, where np.median took 0.6): the median,
    # exactly as np.median gives it, and how many pixels lie within one level of it.
    counts = np.bincount(gray[::2, ::2].ravel(), minlength=256)
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    middle = np.searchsorted(cumulative, [(n - 1) // 2, n // 2], side="right")
    median = middle.mean()
    near = counts[max(0, int(np.ceil(median - 1))) : int(np.floor(median + 1)) + 1].sum()
    return bool(near >= 0.5 * n)


def _segment(gray: np.ndarray, side: int, min_height_fraction: float, large: bool = False,
             drawing: bool = False) -> list[_Found]:
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
    count, labels, stats, _ = _components(mask)
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
        b for b in _merge_pieces(pieces, typical)
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
            piece = _with_inked_holes(piece, crop, level)
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
            found.append(_Found(box, strokes, scale, dark))
    return found


def _round_solid(w: float, h: float, fill: float) -> bool:
    """Whether a blob of box ``w`` x ``h``, ``fill`` of it ink, is a round solid dot (a pen's
    touch, dust)."""
    return 0.6 <= w / h <= 1.7 and fill >= 0.6


def _dot(piece, stats) -> bool:
    """Whether a piece ``[x0, y0, x1, y1, id]`` is a round solid dot."""
    x0, y0, x1, y1, *ids = piece
    w, h = x1 - x0, y1 - y0
    return len(ids) == 1 and _round_solid(w, h, stats[ids[0], cv2.CC_STAT_AREA] / (w * h))


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


def _one_digit(boxes: list[tuple[int, int, int, int]]) -> bool:
    """Whether the digits found in a drawing are one digit drawn in pieces (a dotted 4, the
    detached bar of a 5) rather than a number: fewer than two, or not a line of digits of
    similar height side by side, in a box no wider than tall."""
    if len(boxes) < 2:
        return True
    boxes = sorted(boxes)
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    if x1 - x0 > y1 - y0:
        return False
    heights = [b[3] for b in boxes]
    if min(heights) < 0.5 * max(heights):
        return True
    for (ax, ay, aw, ah), (bx, by, bw, bh) in zip(boxes, boxes[1:], strict=False):
        shared_y = min(ay + ah, by + bh) - max(ay, by)
        shared_x = min(ax + aw, bx + bw) - max(ax, bx)
        if shared_y < 0.5 * min(ah, bh) or shared_x > 0.25 * min(aw, bw):
            return True
    return False


def _whole_drawing(gray: np.ndarray) -> list[Candidate]:
    """All the ink of a drawing as one digit, as the draw panel reads it (:func:`read_canvas`)."""
    from workbench.live.canvas import read_canvas

    image = read_canvas(gray)
    if image is None:
        return []
    ink = np.abs(gray.astype(np.int16) - int(np.median(gray))) > 16
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return [Candidate((int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)), image)]


def _overlap(a, b) -> float:
    """Area shared by boxes ``a`` and ``b`` (``(x, y, w, h)``), as a share of the smaller."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h) / max(1, min(a[2] * a[3], b[2] * b[3]))


def find_digits(frame) -> list[Candidate]:
    """Find the digits in a frame (BGR, BGRA or grayscale, any size), in reading order.

    Dark ink on light paper and light ink on a dark background both work, from a 15-pixel digit
    on a page to one digit filling the frame with strokes a quarter of its height. Two passes:
    a fine one (a local window a tenth of the frame, at up to 800 pixels) finds small digits
    and thin strokes; a coarse one (a window half the frame, at up to 320 pixels) finds large
    digits whole, where the fine window would see only the edges of a thick stroke or break a
    digit into pieces. Where the coarse pass finds a large digit, the fine pass's findings
    inside it are kept only if they are whole digits of the same height (digits the coarse
    pass ran together) and not a hollow outline; otherwise the coarse digit is taken. Specks,
    page edges, lines, blobs too large or of the wrong shape, and anything touching the
    frame's border are dropped (except in a drawing: see :func:`drawn`). A drawing is read
    whole as one digit, as the draw panel reads it, unless the digits found in it stand side by
    side like a number's (:func:`_one_digit`): a digit drawn in strokes that do not touch is
    one digit.

    Examples
    --------
    >>> page = np.full((240, 320), 230, np.uint8)
    >>> _ = cv2.putText(page, "42", (100, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 20, 9)
    >>> [c.box[0] < 160 for c in find_digits(page)]
    [True, False]
    """
    gray = as_gray(frame)
    drawing = drawn(gray)
    chosen = _segment(gray, WORK_SIDE, MIN_HEIGHT_FRACTION, drawing=drawing)
    if drawing and _one_digit([f.box for f in chosen]):
        return _whole_drawing(gray)
    for large in _segment(gray, COARSE_SIDE, LARGE_HEIGHT_FRACTION, large=True, drawing=drawing):
        inside = [f for f in chosen if _overlap(f.box, large.box) >= 0.6]
        # A round solid dot beside a large digit is a speck (as the fine pass drops them beside
        # the digits it sees): the fine pass alone, not seeing the bold 9 whole, kept its speck.
        specks = [f for f in inside if _round_solid(f.box[2], f.box[3], f.fill)
                  and max(f.box[2:]) < SPECK_FRACTION * large.box[3]]
        if specks:
            chosen = [f for f in chosen if all(f is not s for s in specks)]
            inside = [f for f in inside if all(f is not s for s in specks)]
        if (len(inside) >= 2 and max(f.box[3] for f in inside) < 0.45 * large.box[3]
                and all(f.dark != large.dark for f in inside) and np.mean([f.fill for f in inside]) < 0.6):
            # A sheet or a board around digits, not a bold digit around its holes: what lies in
            # a sheet are strokes, not the convex blobs a bold digit's holes are (mean solidity
            # 0.93-2.2 in the fixtures of three seeds; a hole's convex hull can be the smaller
            # on a few pixels); a solid sheet (solidity > 0.93, an ultra-bold 8 too) may hold
            # digits as convex as a 1.
            in_it = np.mean([f.solidity for f in inside])
            if in_it < 0.75 or (large.solidity > 0.93 and in_it < 0.9):
                continue
        # its own strokes, seen finely, or (seen the other way round) the holes between them
        parts = [f for f in inside if large.covers(f.box) >= 0.15 or f.dark != large.dark]
        if not parts:
            if not inside:  # nothing there in the fine pass: a digit it could not see whole
                chosen.append(large)
            continue
        whole = [f for f in parts if f.box[3] >= 0.7 * large.box[3]]
        if len(whole) == len(parts) and (len(whole) > 1 or large.covered_by(whole[0]) >= 0.85):
            continue  # the fine pass has these digits whole (and not as hollow outlines)
        chosen = [f for f in chosen if all(f is not p for p in parts)] + [large]
    found = [Candidate(f.box, f.image) for f in chosen]
    return [found[i] for i in reading_order([c.box for c in found])]

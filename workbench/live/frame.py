"""The frame reader: every digit in a photo or camera frame, in reading order.

grayscale -> denoise -> which way the ink goes -> adaptive threshold (:mod:`~workbench.live.masks`)
-> connected components -> merge the pieces of broken digits -> drop what is not a digit
(:mod:`~workbench.live.segment`) -> cut each digit out and bring it to the MNIST convention
(:func:`workbench.live.ink.ink_to_mnist`) -> order them left to right, line by line (here).
A fine pass and a coarse one run; :func:`find_digits` decides between their findings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench.live.images import as_gray
from workbench.live.masks import LARGE_HEIGHT_FRACTION
from workbench.live.segment import SPECK_FRACTION, round_solid, segment

# Frames are read at most this many pixels on the longer side (boxes are mapped back), which
# bounds the time and memory of a frame of any size.
WORK_SIDE = 800
COARSE_SIDE = 320  # the coarse pass, for large digits
MIN_HEIGHT_FRACTION = 0.03  # of the frame height: smaller blobs are specks
LINE_REACH = 0.8  # a box farther than this many digit heights from a line's course starts a new line


@dataclass(frozen=True)
class Candidate:
    """A blob that looks like one digit: its box ``(x, y, w, h)`` in frame pixels, its
    MNIST-format 28x28 image, the line it is on (0 the top one) and, when a segmentation pass
    found it, its stroke mask at ``scale`` times frame pixels (where digits written touching
    are cut: :mod:`workbench.live.touching`)."""

    box: tuple[int, int, int, int]
    image: np.ndarray
    line: int = 0
    strokes: np.ndarray | None = None
    scale: float = 1.0




def reading_lines(boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """Indices of ``boxes`` line by line, top line first, each line left to right.

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
    return lines


def reading_order(boxes: list[tuple[int, int, int, int]]) -> list[int]:
    """Indices of ``boxes`` in reading order: left to right, line by line (:func:`reading_lines`)."""
    return [i for line in reading_lines(boxes) for i in line]



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
    >>> import cv2
    >>> page = np.full((240, 320), 230, np.uint8)
    >>> _ = cv2.putText(page, "42", (100, 150), cv2.FONT_HERSHEY_SIMPLEX, 2.5, 20, 9)
    >>> [c.box[0] < 160 for c in find_digits(page)]
    [True, False]
    """
    gray = as_gray(frame)
    drawing = drawn(gray)
    chosen = segment(gray, WORK_SIDE, MIN_HEIGHT_FRACTION, drawing=drawing)
    if drawing and _one_digit([f.box for f in chosen]):
        return _whole_drawing(gray)
    for large in segment(gray, COARSE_SIDE, LARGE_HEIGHT_FRACTION, large=True, drawing=drawing):
        inside = [f for f in chosen if _overlap(f.box, large.box) >= 0.6]
        # A round solid dot beside a large digit is a speck (as the fine pass drops them beside
        # the digits it sees): the fine pass alone, not seeing the bold 9 whole, kept its speck.
        specks = [f for f in inside if round_solid(f.box[2], f.box[3], f.fill)
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
        if any(all(f is not p for p in parts) and f.box[3] >= 0.7 * large.box[3]
               and _overlap(f.box, large.box) >= 0.3 for f in chosen):
            # the coarse blob runs into a digit the fine pass saw whole beside its own (digits
            # written close, joined by the coarse window): the fine pass's findings stand
            continue
        if not parts:
            if not inside:  # nothing there in the fine pass: a digit it could not see whole
                chosen.append(large)
            continue
        whole = [f for f in parts if f.box[3] >= 0.7 * large.box[3]]
        if len(whole) == len(parts) and (len(whole) > 1 or large.covered_by(whole[0]) >= 0.85):
            continue  # the fine pass has these digits whole (and not as hollow outlines)
        chosen = [f for f in chosen if all(f is not p for p in parts)] + [large]
    lines = reading_lines([f.box for f in chosen])
    return [Candidate(chosen[i].box, chosen[i].image, number, chosen[i].strokes, chosen[i].scale)
            for number, line in enumerate(lines) for i in line]

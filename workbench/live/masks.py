"""Where the ink is: the two ink masks of the frame reader.

:func:`ink_mask` (the fine pass) finds ink as what stands out from its neighbourhood, which
finds small digits and thin strokes under uneven light; :func:`large_ink_mask` (the coarse
pass) measures ink against the paper behind it, which sees a large digit with strokes of any
width whole. Both return the ink image (ink bright), the binary mask and the polarity (True:
dark ink on light paper). The numbers they are tuned with are named below, each with what it
was measured on.
"""

from __future__ import annotations

import cv2
import numpy as np

# -- the fine pass (ink_mask) ---------------------------------------------------------------
# The neighbourhood ink stands out from: a window 1/NEIGHBOURHOOD of the frame's longer side
# (about a digit wide on a page).
NEIGHBOURHOOD = 10
# Which way ink goes follows from the residual's tails, in percent: strokes are a heavy tail on
# one side, while page edges and light gradients are symmetric. Small thin digits on a large
# page can cover less than 0.5% of the frame, and then the 0.5% tails are the page's edges, not
# the strokes (fixtures: 97.9% of digits found with 0.5%, 99.7% with 0.2%).
POLARITY_TAIL = 0.2
# The threshold is a share of the 0.5% tail's depth, and never below a floor (in grey levels):
# both keep paper texture and sensor noise out.
THRESHOLD_TAIL = 0.5
THRESHOLD_SHARE = 0.2
MIN_CONTRAST = 8.0

# -- the coarse pass (large_ink_mask) -------------------------------------------------------
# The digits the coarse pass looks for are at least this share of the frame's height.
LARGE_HEIGHT_FRACTION = 0.2
# The paper is estimated at 1/PAPER_REDUCTION of the resolution, with a window 1/PAPER_WINDOW
# of the frame wide (a closing removes dark strokes, an opening light ones).
PAPER_REDUCTION = 4
PAPER_WINDOW = 2
# The percentiles that say where the ink lies against the border's paper (thin strokes can
# cover under 1% of the frame).
INK_EXTREMES = (0.1, 99.9)
# Otsu's level below this (grey levels of ink over paper) means there is no ink at all.
MIN_INK_LEVEL = 8
# A side whose largest blob clear of the border is this share of a large digit's box (a digit
# LARGE_HEIGHT_FRACTION high and a tenth as wide in ink) settles which way the ink goes ...
CLEAR_BLOB_SHARE = LARGE_HEIGHT_FRACTION**2 / 10
# ... unless more than this share of the frame's area in "ink" reaches the border (paper does,
# a digit held up to the camera does not) ...
BORDER_INK_SHARE = 0.02
# ... and one side beats the other when its measure is under this share of the other's.
SIDE_RATIO = 0.25


def ink_mask(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Ink image (ink bright), binary ink mask and polarity (True: dark ink) of a smoothed
    grayscale frame.

    Ink is what stands out from its neighbourhood (a window 1/:data:`NEIGHBOURHOOD` of
    the frame wide), which copes with uneven light. Which way it stands out follows from the
    residual's :data:`POLARITY_TAIL` tails; the threshold is :data:`THRESHOLD_SHARE` of the
    :data:`THRESHOLD_TAIL` tail, at least :data:`MIN_CONTRAST` grey levels.
    """
    fh, fw = gray.shape
    block = (max(fh, fw) // NEIGHBOURHOOD) | 1
    residual = gray.astype(np.int16) - cv2.blur(gray, (block, block)).astype(np.int16)
    lo2, lo5, hi5, hi2 = np.percentile(
        residual[::3, ::3], (POLARITY_TAIL, THRESHOLD_TAIL, 100 - THRESHOLD_TAIL, 100 - POLARITY_TAIL)
    )
    dark = -lo2 > hi2
    tail = -lo5 if dark else hi5
    offset = max(MIN_CONTRAST, THRESHOLD_SHARE * tail)
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
    reduced = (max(1, fw // PAPER_REDUCTION), max(1, fh // PAPER_REDUCTION))
    small = cv2.resize(gray, reduced, interpolation=cv2.INTER_AREA)
    window = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, max(small.shape) // PAPER_WINDOW) | 1,) * 2)
    border = np.concatenate([gray[:2].ravel(), gray[-2:].ravel(), gray[:, :2].ravel(), gray[:, -2:].ravel()])
    paper_level = float(np.median(border))
    lo, hi = np.percentile(gray[::2, ::2], INK_EXTREMES)
    likely = paper_level - lo > hi - paper_level  # ink: the far side from the border's paper
    found = []
    big_enough = CLEAR_BLOB_SHARE * fh * fw
    much_border = BORDER_INK_SHARE * fh * fw
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
        if level < MIN_INK_LEVEL:
            mask[:] = 0
        score, on_border = blobs(mask)
        if not found and score < big_enough and on_border > much_border:
            # Three levels, not two: a hard shadow's edge across the frame, which the paper
            # window bridges, makes the shadowed paper "ink" that joins the digit and reaches
            # the border. The digit is the darker ink above the shadow: Otsu's level among
            # the ink only. Only on the likely side (the border's paper): on the other, the
            # "ink" is lit paper between shadows, and its upper level a patch of it.
            upper = ink[ink > level]
            higher = cv2.threshold(upper.reshape(1, -1), 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0]
            inkier = (ink > higher).astype(np.uint8)
            inkier_score, inkier_border = blobs(inkier)
            if inkier_score >= big_enough and inkier_border <= much_border:
                mask, score, on_border = inkier, inkier_score, inkier_border
        found.append((score, on_border, ink, mask, dark))
    if len(found) == 1:
        return tuple(found[0][2:])
    (score, on_border, *likely_ink), (other_score, other_on_border, *other_ink) = found
    # Ink held up to the camera stays inside the frame; paper reaches its border. A side whose
    # "ink" covers much of the border is paper (a shadow over the border made the border's
    # paper look dark and the lit paper look like light ink).
    if on_border > much_border and other_on_border < SIDE_RATIO * on_border and other_score:
        return tuple(other_ink)
    # The border's side wins unless its ink is all paper reaching the border (a shadow over
    # most of the border makes the paper look dark) while the other side has a clear blob.
    return tuple(other_ink) if score < SIDE_RATIO * other_score else tuple(likely_ink)


def blobs(mask: np.ndarray) -> tuple[int, int]:
    """The area of a mask's largest blob clear of the frame's border, and the area of all its
    blobs that touch the border."""
    fh, fw = mask.shape
    count, _, stats, _ = components(mask)
    x, y, w, h, area = stats[1:count].T if count > 1 else np.zeros((5, 0), int)
    clear = (x > 0) & (y > 0) & (x + w < fw) & (y + h < fh)
    return (int(area[clear].max()) if clear.any() else 0), int(area[~clear].sum())


def components(mask: np.ndarray):
    """Connected components (8-connected) of a binary mask with their stats. Grana's algorithm
    gives the same labels as OpenCV's default (Spaghetti) and, single-threaded, computes the
    stats in under half the time (0.72 vs 1.9 ms on a 640x480 frame)."""
    return cv2.connectedComponentsWithStatsWithAlgorithm(mask, 8, cv2.CV_32S, cv2.CCL_GRANA)

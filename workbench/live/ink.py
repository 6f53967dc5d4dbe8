"""From an ink image of one digit (any size, any stroke width) to an MNIST-format 28x28 image.

Both readers end here: the canvas reader with a user's drawing, the frame reader with each
digit it cut out of a photo. Resizing a drawing straight to 28x28 is what makes hobby digit
apps misread off-centre, small or thick digits; this module instead repeats how MNIST itself
was made (a binary stroke image, fitted into a 20x20 box, anti-aliased, centred by centre of
mass: :func:`workbench.transforms.normalize_digit`), after bringing the stroke width into the
range MNIST writers used.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

from workbench.transforms import normalize_digit

# Stroke width measured on the longer side scaled to WORK_BOX pixels (4x MNIST's 20-pixel box):
# ink area / skeleton length over 3,000 MNIST training digits gives the 5th, 50th and 95th
# percentiles 7.0, 10.9 and 16.5 pixels. Strokes outside [THIN, THICK] are brought to TYPICAL.
WORK_BOX = 80
THIN, TYPICAL, THICK = 7.0, 10.9, 16.5


def stroke_width(mask: np.ndarray, skeleton: np.ndarray | None = None) -> float:
    """Mean stroke width of a binary ink mask: ink area divided by skeleton length (pixels)."""
    length = int((skeletonize(mask) if skeleton is None else skeleton).sum())
    return float(mask.sum()) / length if length else 0.0


def _disc(diameter: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (diameter, diameter))


def normalize_stroke(mask: np.ndarray) -> np.ndarray:
    """Thin or thicken a binary digit mask (longer side about ``WORK_BOX``) to MNIST's range.

    A digit drawn with a fat brush becomes a blob at 28x28 (holes of 0, 6, 8, 9 close up) and
    a hairline one fades away; MNIST's own strokes are 7-16.5 pixels at this scale. Thinning
    erodes by the excess of the mean width and keeps the skeleton redrawn at ``THIN`` width:
    where a marker closed a loop, the blob inflates the mean, and erosion alone would erase
    the digit's thinner strokes (a 6 whose filled loop ate its stem read 0).
    """
    skeleton = skeletonize(mask)
    width = stroke_width(mask, skeleton)
    if width == 0 or THIN <= width <= THICK:
        return mask
    m = mask.astype(np.uint8)
    if width > THICK:
        # Erosion by a disc of diameter d thins a stroke by about d; never erase the digit. A
        # disc wider than twice the mask's diagonal erodes as any wider one does (a solid blob's
        # "width" can ask for 745 pixels: 73 ms instead of 0.5).
        diameter = min(int(round(width - TYPICAL)), 2 * int(np.hypot(*m.shape)) + 3)
        thinned = cv2.erode(m, _disc(diameter | 1))
        if thinned.sum() < 0.1 * m.sum():
            return mask
        return (thinned | cv2.dilate(skeleton.astype(np.uint8), _disc(int(THIN) | 1))).astype(bool)
    return cv2.dilate(m, _disc(int(round(TYPICAL - width)) | 1)).astype(bool)


def ink_to_mnist(ink: np.ndarray, *, threshold: float = 0.5) -> np.ndarray | None:
    """Bring one digit's ink image to the MNIST convention.

    Parameters
    ----------
    ink : ndarray of shape (h, w), float in [0, 1]
        Ink bright on a dark background (0 = no ink), the digit anywhere in it.
    threshold : float, default=0.5
        Ink level that counts as stroke.

    Returns
    -------
    ndarray of shape (28, 28), uint8, or None when there is no ink at all.

    Examples
    --------
    >>> ink = np.zeros((300, 300), np.float32); ink[40:260, 140:160] = 1   # a fat "1"
    >>> ink_to_mnist(ink).shape
    (28, 28)
    """
    mask = ink > threshold
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = crop.shape
    # Work at WORK_BOX on the longer side, with a margin so that thickening has room.
    scale = WORK_BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    work = cv2.resize(crop.astype(np.float32), size, interpolation=interpolation) > 0.5
    work = np.pad(work, WORK_BOX // 8)
    work = normalize_stroke(work)
    image = normalize_digit(work.astype(np.float32), robust=False)  # clean strokes: keep thin ends
    return np.round(image * 255).astype(np.uint8)

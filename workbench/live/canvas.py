"""The canvas reader: a drawing of one digit, of any size, to one MNIST-format 28x28 image."""

from __future__ import annotations

import numpy as np

from workbench.live.images import as_gray
from workbench.live.ink import ink_to_mnist

# Less ink than this (longer side of the ink's box, as a fraction of the canvas's longer side)
# is a dot or a slip of the mouse, not a digit.
MIN_DIGIT_FRACTION = 0.04


def read_canvas(canvas) -> np.ndarray | None:
    """Bring a drawing to the MNIST convention, or return None when nothing is drawn.

    Parameters
    ----------
    canvas : ndarray of shape (h, w), (h, w, 3) or (h, w, 4)
        The drawing: white on black or black on white (whichever colour covers most of the
        canvas is the background), any brush width, the digit anywhere and of any size.

    Returns
    -------
    ndarray of shape (28, 28), uint8, white ink on black; or None for an empty or nearly empty
    canvas (less ink than a digit).

    Examples
    --------
    >>> canvas = np.full((200, 300), 255, np.uint8); canvas[20:120, 40:52] = 0   # a black "1"
    >>> read_canvas(canvas).shape
    (28, 28)
    >>> read_canvas(np.zeros((200, 300), np.uint8)) is None
    True
    """
    gray = as_gray(canvas).astype(np.float32)
    background = float(np.median(gray))
    ink = np.abs(gray - background)
    contrast = float(ink.max())
    if contrast < 32:  # a blank (or almost uniform) canvas
        return None
    ink /= contrast
    mask = ink > 0.5
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    extent = max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1
    if extent < MIN_DIGIT_FRACTION * max(gray.shape):
        return None
    image = ink_to_mnist(ink)
    # specks far apart pass the extent test but vanish at 28x28: still nothing drawn
    return image if image is not None and image.max() > 0 else None

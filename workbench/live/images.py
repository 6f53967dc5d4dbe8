"""Reading image files and bringing any image array to 8-bit grayscale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


class ImageError(ValueError):
    """An image file or array that the readers cannot use; the message names the problem."""


def as_gray(image) -> np.ndarray:
    """Any image array to uint8 grayscale ``(h, w)``.

    Accepts ``(h, w)``, ``(h, w, 1)``, BGR ``(h, w, 3)`` or BGRA ``(h, w, 4)``; uint8, uint16
    or float in [0, 1]. With an alpha channel, transparent pixels count as background: the
    image is laid on white when its visible pixels are dark, on black otherwise.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ImageError(f"an image must have shape (h, w), (h, w, 3) or (h, w, 4); got {image.shape}")
    if min(image.shape[:2]) < 1:
        raise ImageError(f"the image is empty (shape {image.shape})")
    if image.dtype == np.uint8:
        pass
    elif image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ImageError("the image contains NaN or infinite values")
        image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
    elif image.dtype == bool:
        image = image.astype(np.uint8) * 255
    else:
        raise ImageError(f"image pixels must be uint8, uint16, float or bool; got {image.dtype}")
    if image.ndim == 2:
        return image
    gray = cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_BGR2GRAY)
    if image.shape[2] == 4 and image[..., 3].min() < 255:
        alpha = image[..., 3].astype(np.float32) / 255
        visible = gray[alpha > 0.5]
        background = 255.0 if visible.size and np.median(visible) < 128 else 0.0
        gray = np.round(gray * alpha + background * (1 - alpha)).astype(np.uint8)
    return gray


def read_image(path: str | Path) -> np.ndarray:
    """Read a PNG, JPEG or BMP file as BGR (or BGRA) uint8; :class:`ImageError` names the file
    and the problem when it cannot be read."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise ImageError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if data.size == 0:
        raise ImageError(f"{path}: the file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError(f"{path}: not a readable PNG, JPEG or BMP image (corrupt or another format)")
    return image

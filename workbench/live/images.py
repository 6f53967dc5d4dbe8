"""Reading image files and bringing any image array to 8-bit grayscale."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np

from workbench.files import FileProblem, open_regular


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
        image = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
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


#: The formats the readers open (Pillow's names). Only these: Pillow would otherwise also open,
#: for instance, a PostScript file named ``.png`` with its EPS plugin, which runs Ghostscript.
FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM")  # JPEG includes MPO, as phones write it

#: Larger images are refused from their header, before any pixel is decoded: a 30,000 x 30,000
#: PNG of a few kilobytes would otherwise take gigabytes of memory (a decompression bomb).
MAX_PIXELS = 50_000_000


def _open_regular(path: Path) -> int:
    """Open ``path`` for reading without waiting on it; refuse what is not a non-empty regular file."""
    try:
        return open_regular(path)
    except FileProblem as exc:
        hint = "" if str(exc).startswith(("cannot", "the file")) else "; give an image file"
        raise ImageError(f"{path}: {exc}{hint}") from exc


def check_image_file(path: str | Path) -> None:
    """Refuse at once, with :func:`read_image`'s message, a path that is missing, unreadable, not
    a regular file or empty: a command checks its inputs before it spends seconds on a model."""
    os.close(_open_regular(Path(path)))


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file (PNG, JPEG, BMP, GIF, TIFF, WebP or PNM: :data:`FORMATS`) for the readers.

    The EXIF orientation of photos is applied; palette, grayscale, 16-bit, RGBA and CMYK
    images are all accepted. Returns grayscale ``(h, w)`` (uint8 or uint16), BGR ``(h, w, 3)``
    or, with transparency, BGRA ``(h, w, 4)`` uint8: what :func:`as_gray` takes.

    Raises
    ------
    ImageError
        Naming the file and the problem: missing, not a regular file (a folder, a FIFO, a
        device: refused without waiting on it), empty, not an image, corrupt or truncated (any
        decoder failure, damaged EXIF and TIFF tags included), or more than :data:`MAX_PIXELS`
        pixels (checked before decoding).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    fd = _open_regular(path)
    with os.fdopen(fd, "rb") as file:
        try:
            with warnings.catch_warnings():  # Pillow warns above 89 megapixels (ours is the stricter
                warnings.simplefilter("ignore")  # limit) and about damaged EXIF tags (skipped)
                image = Image.open(file, formats=FORMATS)  # reads the header only
                with image:
                    width, height = image.size
                    if width * height > MAX_PIXELS:
                        raise ImageError(
                            f"{path}: the image is {width} x {height} pixels ({width * height / 1e6:,.0f} "
                            f"megapixels), more than the {MAX_PIXELS / 1e6:.0f} megapixels the readers accept; "
                            "scale it down first")
                    return _pixels(ImageOps.exif_transpose(image))
        except ImageError:
            raise
        except UnidentifiedImageError as exc:
            raise ImageError(f"{path}: not a readable PNG, JPEG, BMP, GIF, TIFF, WebP or PNM image (corrupt or "
                             "another format)") from exc
        except Image.DecompressionBombError as exc:  # Pillow's own limit (179 megapixels), above ours
            raise ImageError(
                f"{path}: the image is more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, more than the "
                f"{MAX_PIXELS / 1e6:.0f} megapixels the readers accept; scale it down first") from exc
        except Exception as exc:  # noqa: BLE001 - any decoder failure (bad EXIF or TIFF tags raise
            # TypeError, struct.error...) is a file we cannot read, never a crash
            raise ImageError(f"{path}: the image is corrupt or truncated ({type(exc).__name__}: {exc})") from exc


def _pixels(image) -> np.ndarray:
    """A decoded Pillow image as the arrays :func:`as_gray` takes."""
    if image.mode in ("1", "L"):
        return np.asarray(image.convert("L"))
    if image.mode.startswith("I"):  # 16- or 32-bit integer grayscale
        return np.clip(np.asarray(image, dtype=np.int64), 0, 65535).astype(np.uint16)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = values.max() if np.isfinite(values).all() and values.max() > 0 else 1.0
        return np.clip(values / top * 255, 0, 255).astype(np.uint8)
    if "A" in image.mode or "transparency" in image.info:
        return cv2.cvtColor(np.asarray(image.convert("RGBA")), cv2.COLOR_RGBA2BGRA)
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)

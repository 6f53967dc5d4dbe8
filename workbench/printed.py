"""Printed digits as training data: the fonts on this machine, a digit printed in one of them
and brought to the MNIST convention as the canvas reader would.

``cnn`` learns printed digits from half the fonts (its ``printed`` parameter, through
:func:`printed_digits` and :func:`font_halves`), the digit gate learns what a digit looks like
from them too, and the fixtures of :mod:`workbench.synth` print in the other half, which no
model learns from. Every function takes a :class:`numpy.random.Generator`, so a seed gives the
same images.
"""

from __future__ import annotations

import cv2
import numpy as np

HERSHEY_FONTS = {
    "hershey-simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "hershey-duplex": cv2.FONT_HERSHEY_DUPLEX,
    "hershey-complex": cv2.FONT_HERSHEY_COMPLEX,
    "hershey-triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "hershey-plain": cv2.FONT_HERSHEY_PLAIN,
    "hershey-complex-small": cv2.FONT_HERSHEY_COMPLEX_SMALL,
    "hershey-script-simplex": cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    "hershey-italic": cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC,
}


_TRUETYPE_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype", "/Library/Fonts", "C:/Windows/Fonts")


def font_names(include_system: bool = True) -> list[str]:
    """Fonts to print digits in: OpenCV's Hershey fonts, Pillow's built-in font and, with
    ``include_system``, the sans and serif TrueType fonts installed on this machine (paths).
    Monospaced fonts are left out: their zero has a dot or a slash inside, unlike any
    handwritten zero a digit model learns from."""
    from pathlib import Path

    names = [*HERSHEY_FONTS, "pillow-default"]
    if include_system:
        for folder in _TRUETYPE_DIRS:
            if Path(folder).is_dir():
                names += sorted(str(p) for p in Path(folder).glob("**/*.ttf") if "mono" not in p.name.lower())
    return names


def render_glyph(text: str, font: str, height: int, weight: float) -> np.ndarray:
    """``text`` rendered white on black, cropped to its ink, about ``height`` pixels high;
    ``weight`` scales the stroke (1 regular, 2 bold, 0.5 light)."""
    from PIL import Image, ImageDraw, ImageFont

    if font in HERSHEY_FONTS:
        face = HERSHEY_FONTS[font]
        scale = height / cv2.getTextSize(text, face, 1.0, 1)[0][1]
        thickness = max(1, int(round(weight * scale * 1.6)))
        (w, h), base = cv2.getTextSize(text, face, scale, thickness)
        image = np.zeros((h + base + 4 * thickness, w + 4 * thickness), np.uint8)
        cv2.putText(image, text, (2 * thickness, h + 2 * thickness), face, scale, 255, thickness, cv2.LINE_AA)
    else:
        size = max(8, int(height * 1.35))
        face = ImageFont.load_default(size) if font == "pillow-default" else ImageFont.truetype(font, size)
        left, top, right, bottom = face.getbbox(text)
        pad = max(4, size // 4)
        canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
        ImageDraw.Draw(canvas).text((pad - left, pad - top), text, fill=255, font=face)
        image = np.asarray(canvas)
        if weight != 1:  # bolder or lighter: grow or thin the strokes by a disc
            disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(2, int(abs(weight - 1) * size / 14)),) * 2)
            image = cv2.dilate(image, disc) if weight > 1 else cv2.erode(image, np.ones((2, 2), np.uint8))
    rows, cols = np.flatnonzero(image.max(1) > 60), np.flatnonzero(image.max(0) > 60)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def on_canvas(ink: np.ndarray, rng: np.random.Generator, canvas_size: tuple[int, int]) -> np.ndarray:
    """Float ink (1 = ink) placed at a random size (25-85% of the height) and place on a black
    canvas, as uint8 white on black."""
    ch, cw = canvas_size
    rows, cols = np.flatnonzero(ink.max(1) > 0.2), np.flatnonzero(ink.max(0) > 0.2)
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    f = min(rng.uniform(0.25, 0.85) * ch / ink.shape[0], 0.9 * cw / ink.shape[1])
    ink = cv2.resize(ink, (max(1, int(ink.shape[1] * f)), max(1, int(ink.shape[0] * f))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros(canvas_size, np.float32)
    top, left = int(rng.integers(0, ch - ink.shape[0] + 1)), int(rng.integers(0, cw - ink.shape[1] + 1))
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return (canvas * 255).astype(np.uint8)


def typed(text: str, rng: np.random.Generator, *, fonts: list[str], canvas_size=(280, 280),
          weights=(0.5, 1.0, 2.0)) -> np.ndarray:
    """``text`` printed in a random font of ``fonts``, at a random weight of ``weights`` (1
    regular, 2 bold, 0.5 light), size and place on a canvas: uint8, white on black."""
    font = fonts[int(rng.integers(len(fonts)))]
    glyph = render_glyph(text, font, 120, float(rng.choice(weights))).astype(np.float32) / 255
    return on_canvas(glyph, rng, canvas_size)


def font_halves() -> tuple[list[str], list[str]]:
    """Every other font of :func:`font_names`: the half models learn printed digits from (the
    CNN, the digit gate), and the half kept to measure them on fonts they never saw."""
    fonts = font_names()
    return fonts[::2], fonts[1::2]


def printed_digits(n: int, rng: np.random.Generator, *, fonts: list[str], labels=tuple(range(10)),
                   weights=(0.5, 1.0, 2.0)) -> tuple[np.ndarray, np.ndarray]:
    """``n`` digits of ``labels`` printed in ``fonts`` (:func:`typed`), as the canvas reader
    brings them to the MNIST convention: uint8 images ``(n, 28, 28)`` and their labels."""
    from workbench.live.canvas import read_canvas

    chosen, images = [], []
    for _ in range(n):
        chosen.append(labels[int(rng.integers(len(labels)))])
        images.append(read_canvas(typed(str(chosen[-1]), rng, fonts=fonts, weights=weights)))
    return np.stack(images), np.asarray(chosen)

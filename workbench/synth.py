"""Synthetic inputs: the fixtures the live readers are judged on and the training data of the
networks that read them (printed digits, re-drawn digits, letters, scribbles, marks).

Made from MNIST *test* digits, the live readers are judged on these (no model was trained on
the test split), and ``benchmarks/live_fixtures.py`` writes them to disk; made from the
*training* digits and half of the fonts, they teach ``cnn`` printed digits and the digit gate
what a non-digit is. Every function takes a :class:`numpy.random.Generator`, so a seed gives the
same images. The photographed page the ``demo`` camera films is :mod:`workbench.live.scene`.

- :func:`redraw` re-draws a digit the way a user would on a canvas: any size, anywhere, with a
  round brush of any width (the writer's filled loops kept filled), white on black or black on
  white.
- :func:`render_page` prints digits on a sheet of paper and photographs it: the sheet tilted
  and in perspective on a table, uneven light, blur, sensor noise, dark ink on light paper or
  light chalk on a dark board. It returns the truth: each digit's box and label in reading order.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.morphology import skeletonize

# The photographed page, here with every other synthetic input (its home is the live layer's demo).
from workbench.live.scene import Page, layout, photograph, render_page  # noqa: F401
from workbench.printed import font_names, render_glyph, typed


def redraw(
    digit: np.ndarray,
    rng: np.random.Generator,
    *,
    canvas_size: tuple[int, int] = (280, 280),
    height: float | None = None,
    brush: int | None = None,
    invert: bool | None = None,
) -> np.ndarray:
    """Re-draw one 28x28 MNIST digit on a canvas with a round brush.

    The digit is scaled to ``height`` (random: 15-90% of the canvas height), placed at a random
    position and drawn with a pen ``brush`` pixels wide (random: 2-14% of the digit's height):
    its skeleton traced with the brush, together with its own ink eroded or dilated from the
    writer's stroke width to the brush's, so that a loop the writer filled stays filled.
    Returns a uint8 canvas of ``canvas_size`` (height, width), white ink on black, or black on
    white when ``invert``.
    """
    ch, cw = canvas_size
    if height is None:
        height = rng.uniform(0.15, 0.9) * ch
    big = cv2.resize(digit.astype(np.float32) / 255, None, fx=8, fy=8, interpolation=cv2.INTER_LINEAR) > 0.5
    rows, cols = np.flatnonzero(big.any(1)), np.flatnonzero(big.any(0))
    big = big[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = height / big.shape[0]
    if big.shape[1] * scale > 0.95 * cw:
        scale = 0.95 * cw / big.shape[1]
    skeleton = skeletonize(big)
    ys, xs = np.nonzero(skeleton)
    if brush is None:
        brush = int(round(rng.uniform(0.02, 0.14) * height))
    brush = max(1, brush)
    h, w = int(np.ceil(big.shape[0] * scale)), int(np.ceil(big.shape[1] * scale))
    top = int(rng.integers(0, max(1, ch - h - brush)))
    left = int(rng.integers(0, max(1, cw - w - brush)))
    canvas = np.zeros(canvas_size, np.uint8)
    for y, x in zip(ys * scale + top + brush / 2, xs * scale + left + brush / 2, strict=True):
        cv2.circle(canvas, (int(round(x)), int(round(y))), max(1, brush // 2), 255, -1, cv2.LINE_AA)
    # The writer's own ink, with the pen changed: the digit scaled and its strokes eroded or
    # dilated from their width to the brush's. A loop the writer filled stays filled, where the
    # skeleton alone is a bare stroke (an 8 with a filled bowl traced from it reads 9); the
    # trace keeps the strokes thinner than the writer's usual width.
    depth = cv2.distanceTransform(np.pad(big, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    width = 2 * float(np.median(depth[skeleton])) * scale
    own = (cv2.resize(big.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_AREA) > 127).astype(np.uint8)
    change = int(round(abs(width - brush)))
    if change:
        pen = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (change | 1,) * 2)
        own = (cv2.erode if brush < width else cv2.dilate)(own, pen)
    y0, x0 = int(round(top + brush / 2)), int(round(left + brush / 2))
    region = canvas[y0 : y0 + h, x0 : x0 + w]
    region[own[: region.shape[0], : region.shape[1]] > 0] = 255
    if invert is None:
        invert = bool(rng.integers(2))
    return 255 - canvas if invert else canvas


def _ink(digit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows and the columns of a 28x28 digit that hold ink."""
    return np.flatnonzero((digit > 128).any(1)), np.flatnonzero((digit > 128).any(0))


def _bar(digit: np.ndarray, y: int, half: int) -> None:
    """A 2-pixel bar across the stroke that crosses row ``y``, ``half`` pixels either side."""
    xs = np.flatnonzero(digit[y] > 128)
    x = int(xs.mean()) if len(xs) else int(_ink(digit)[1].mean())
    cv2.line(digit, (x - half, y), (x + half, y), 255, 2)


def _flag(digit: np.ndarray, top: int, height: int) -> None:
    """A 1's long up-stroke: from the top of the stem down to the left."""
    x = int(np.flatnonzero(digit[top] > 128).mean())
    cv2.line(digit, (x, top), (x - int(0.45 * height), top + int(0.3 * height)), 255, 2)


CONTINENTAL = (0, 1, 7)  # the digits :func:`continental` changes


def continental(digit: np.ndarray, label: int) -> np.ndarray:
    """A 28x28 MNIST digit as a writer of the continental European style draws it, a style
    MNIST hardly holds: 1 with a long up-stroke (MNIST's 7 shape), 7 crossed by a bar, 0
    slashed. Other digits are returned unchanged (a copy). The benchmark and tests of
    :mod:`workbench.adapt` play a user who writes this way."""
    digit = digit.copy()
    rows, cols = _ink(digit)
    if label not in CONTINENTAL or not len(rows):
        return digit
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top
    if label == 1:
        _flag(digit, top, height)
    elif label == 7:
        _bar(digit, int(round(top + 0.55 * height)), 4)
    else:
        cv2.line(digit, (int(cols[-1]) + 1, top - 1), (int(cols[0]) - 1, bottom + 1), 255, 2)
    return digit


def continental_user(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, per_class: int, *, skip: int = 0,
                     labels=range(10)) -> tuple[np.ndarray, np.ndarray]:
    """A continental writer's drawings (:func:`continental`, re-drawn with :func:`redraw`) as
    the canvas reader brings them to a model, shuffled, with their labels: ``per_class`` of
    each of ``labels``, from the MNIST digits ``X, y`` of that class after the first ``skip``."""
    from workbench.live.canvas import read_canvas

    images, targets = [], []
    for label in labels:
        for i in np.flatnonzero(y == label)[skip : skip + per_class]:
            images.append(read_canvas(redraw(continental(X[i], label), rng, invert=False)))
            targets.append(label)
    order = rng.permutation(len(targets))
    return np.stack(images)[order], np.array(targets)[order]


WRITERS = {"barred 7": 7, "flagged 1": 1, "closed 4": 4, "straight 9": 9, "crossed 2": 2}
"""Simulated writers for :mod:`workbench.adapt`: each writes one digit in a style MNIST hardly
holds (:func:`in_style`) and the other nine as MNIST does."""


def in_style(digit: np.ndarray, label: int, writer: str) -> np.ndarray:
    """A 28x28 MNIST digit as ``writer`` (a key of :data:`WRITERS`) writes it: only that
    writer's digit changes, the others are returned unchanged (a copy).

    - barred 7: a bar through the stem at mid-height (MNIST's 7s read as 9 or unsure);
    - flagged 1: a long flag down from the top and a foot (the shape of MNIST's 7s and 2s);
    - closed 4: the two strokes joined at the top (a 9's loop);
    - straight 9: the loop on a straight, upright stem, below the loop erased and redrawn;
    - crossed 2: a bar through the middle of the diagonal (a Z-like 2).
    """
    digit = digit.copy()
    rows, cols = _ink(digit)
    if label != WRITERS[writer] or not len(rows):
        return digit
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top
    if label in (7, 2):
        _bar(digit, int(round(top + (0.55 if label == 7 else 0.5) * height)), 5)
    elif label == 1:
        _flag(digit, top, height)
        x = int(np.flatnonzero(digit[bottom] > 128).mean())
        half = int(0.25 * height)
        cv2.line(digit, (x - half, bottom), (x + half, bottom), 255, 2)
    elif label == 4:
        upper = digit[top : top + max(2, height // 2)] > 128
        ys, xs = np.nonzero(upper)
        middle = (cols[0] + cols[-1]) / 2
        left, right = xs < middle, xs >= middle
        if left.any() and right.any():
            i, j = np.flatnonzero(left)[np.argmin(ys[left])], np.flatnonzero(right)[np.argmin(ys[right])]
            cv2.line(digit, (int(xs[i]), top + int(ys[i])), (int(xs[j]), top + int(ys[j])), 255, 2)
    else:  # 9
        middle = int(round(top + 0.5 * height))
        loop = np.flatnonzero((digit[top : middle + 1] > 128).any(0))
        digit[middle + 1 :] = 0
        x = int(loop[-1]) - 1
        cv2.line(digit, (x, middle - 2), (x, bottom), 255, 2)
    return digit


def printed(
    label: int,
    rng: np.random.Generator,
    *,
    fonts: list[str],
    canvas_size: tuple[int, int] = (240, 320),
) -> tuple[np.ndarray, str]:
    """One printed digit: a random font of ``fonts``, regular, bold or light, 20-85% of the
    canvas height, anywhere on it, either polarity, on a lightly textured background. Returns
    the uint8 image and the font used."""
    ch, cw = canvas_size
    font = fonts[int(rng.integers(len(fonts)))]
    weight = float(rng.choice([0.5, 1.0, 1.0, 2.0, 3.0]))
    glyph = render_glyph(str(label), font, int(rng.uniform(0.2, 0.85) * ch), weight).astype(np.float32) / 255
    gh, gw = glyph.shape
    margin = max(2, int(0.03 * ch))  # off-centre anywhere, but not cut by the image's edge
    if gh > ch - 2 * margin or gw > cw - 2 * margin:
        f = min((ch - 2 * margin) / gh, (cw - 2 * margin) / gw)
        glyph = cv2.resize(glyph, (max(1, int(gw * f)), max(1, int(gh * f))), interpolation=cv2.INTER_AREA)
        gh, gw = glyph.shape
    top, left = int(rng.integers(margin, ch - gh - margin + 1)), int(rng.integers(margin, cw - gw - margin + 1))
    ink = np.zeros((ch, cw), np.float32)
    ink[top : top + gh, left : left + gw] = glyph
    paper, mark = (0.92, 0.1) if rng.random() < 0.5 else (0.08, 0.95)
    image = paper + (mark - paper) * ink + rng.normal(0, 0.02, ink.shape)
    return np.clip(image * 255, 0, 255).astype(np.uint8), font


def _marker(digit: np.ndarray, rng: np.random.Generator, height: int, stroke: float) -> np.ndarray:
    """A 28x28 digit re-traced with a round pen ``stroke`` (fraction of its height) thick, as
    float ink (1 = ink), cropped, about ``height`` pixels high."""
    canvas = redraw(digit, rng, canvas_size=(int(height * 1.3) + 8, int(height * 1.3) + 8), height=height,
                    brush=max(1, int(round(stroke * height))), invert=False).astype(np.float32) / 255
    rows, cols = np.flatnonzero(canvas.max(1) > 0.2), np.flatnonzero(canvas.max(0) > 0.2)
    return canvas[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _camera(ink: np.ndarray, rng: np.random.Generator, frame_size=(480, 640), *, shadow: bool = True) -> np.ndarray:
    """Photograph a sheet of ink (float, 1 = ink, the size of the frame): paper or board, a
    slight perspective, uneven light, a soft shadow across part of it, blur, sensor noise and
    JPEG-like softness. Returns BGR uint8."""
    fh, fw = frame_size
    corners = np.float32([[0, 0], [fw, 0], [fw, fh], [0, fh]])
    target = corners + rng.uniform(-0.03, 0.03, (4, 2)).astype(np.float32) * np.float32([fw, fh])
    ink = cv2.warpPerspective(ink, cv2.getPerspectiveTransform(corners, target), (fw, fh))
    dark_ink = rng.random() >= 0.2
    paper, mark = (rng.uniform(0.75, 0.95), rng.uniform(0.05, 0.3)) if dark_ink else (rng.uniform(0.1, 0.25), 0.85)
    image = paper + (mark - paper) * ink
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - fw / 2) * np.cos(angle) + (yy - fh / 2) * np.sin(angle)) / max(fw, fh)
    image = image * rng.uniform(0.6, 1.05) * (1 - rng.uniform(0, 0.5) * (ramp + 0.5))
    if shadow and rng.random() < 0.5:  # a hand's or a phone's shadow: a soft-edged darker half-plane
        angle = rng.uniform(0, 2 * np.pi)
        edge = (xx - fw * rng.uniform(0.2, 0.8)) * np.cos(angle) + (yy - fh * rng.uniform(0.2, 0.8)) * np.sin(angle)
        soft = 1 / (1 + np.exp(-edge / rng.uniform(5, 40)))
        image = image * (1 - rng.uniform(0.2, 0.5) * soft)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.5))
    image = image + rng.normal(0, rng.uniform(0.005, 0.04), image.shape).astype(np.float32)
    bgr = image[..., None] * np.float32([0.95, 1.0, 1.04])
    return np.clip(bgr * 255, 0, 255).astype(np.uint8)


def closeup(digit: np.ndarray, rng: np.random.Generator, *, frame_size=(480, 640)) -> tuple[np.ndarray, tuple]:
    """One digit written with a marker on paper, held up close to a camera: 30-95% of the frame
    height, strokes 4-25% of its height, anywhere in the frame, perspective, light, shadow.
    Returns the BGR frame and the digit's box ``(x, y, w, h)`` (before perspective)."""
    fh, fw = frame_size
    glyph = _marker(digit, rng, int(rng.uniform(0.3, 0.95) * fh), rng.uniform(0.04, 0.25))
    margin = int(0.04 * fh)  # the perspective moves corners by up to 3% of the frame
    gh, gw = glyph.shape
    if gh > fh - 2 * margin:
        glyph = cv2.resize(glyph, (gw * (fh - 2 * margin) // gh, fh - 2 * margin))
        gh, gw = glyph.shape
    top = int(rng.integers(margin, fh - gh - margin + 1))
    left = int(rng.integers(margin, max(margin + 1, fw - gw - margin + 1)))
    ink = np.zeros((fh, fw), np.float32)
    ink[top : top + gh, left : left + gw] = glyph[:, : fw - left]
    return _camera(ink, rng, frame_size), (left, top, gw, gh)


def _in_a_line(glyphs: list[np.ndarray], gap: int, rng: np.random.Generator, size: tuple[int, int],
               margin: int) -> np.ndarray:
    """``glyphs`` (each cropped to its ink, ink bright) side by side ``gap`` pixels apart on a
    black image of ``size``, shrunk to fit ``margin`` pixels inside its edges, at a random place
    on it, each a little (up to a tenth of its height) below the line, as a hand writes."""
    h, w = size
    total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    f = min((w - 2 * margin) / total, (h - 2 * margin) / max(g.shape[0] for g in glyphs))
    if f < 1:  # shrink to fit
        glyphs = [cv2.resize(g, (max(1, int(g.shape[1] * f)), max(1, int(g.shape[0] * f)))) for g in glyphs]
        gap = int(gap * f)
        total = sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1)
    out = np.zeros(size, glyphs[0].dtype)
    x = int(rng.integers(margin, max(margin + 1, w - total - margin + 1)))
    tallest = max(g.shape[0] for g in glyphs)
    base = int(rng.integers(margin, max(margin + 1, h - int(1.1 * tallest) - margin + 1)))
    for g in glyphs:
        y = min(h - g.shape[0] - margin, base + int(rng.integers(0, 1 + g.shape[0] // 10)))
        out[y : y + g.shape[0], x : x + g.shape[1]] = np.maximum(out[y : y + g.shape[0], x : x + g.shape[1]], g)
        x += g.shape[1] + gap
    return out


def large_number(digits: np.ndarray, rng: np.random.Generator, *, frame_size=(480, 640)) -> np.ndarray:
    """A number of 2-4 digits written large across the frame (35-75% of its height), with a
    marker, photographed like :func:`closeup`. Returns the BGR frame."""
    fh, fw = frame_size
    margin = int(0.04 * fh)  # the perspective moves corners by up to 3% of the frame
    height = int(rng.uniform(0.35, 0.75) * fh)
    stroke = rng.uniform(0.05, 0.16)
    glyphs = [_marker(d, rng, int(height * rng.uniform(0.9, 1.1)), stroke) for d in digits]
    gap = int(rng.uniform(0.1, 0.3) * height)
    return _camera(_in_a_line(glyphs, gap, rng, frame_size, margin), rng, frame_size)


def drawn_number(digits: np.ndarray, rng: np.random.Generator, *, canvas_size=(280, 560)) -> np.ndarray:
    """A number of MNIST digits drawn in one line on a canvas, each as :func:`redraw` draws one
    (one brush for the whole number, digits 30-80% of the canvas height, gaps 10-40% of it).
    White on black or black on white; returns the uint8 canvas."""
    ch, cw = canvas_size
    height = rng.uniform(0.3, 0.8) * ch
    brush = max(1, int(round(rng.uniform(0.03, 0.12) * height)))
    glyphs = []
    for digit in digits:
        drawing = redraw(digit, rng, canvas_size=(int(1.5 * height),) * 2, height=height, brush=brush, invert=False)
        rows, cols = np.flatnonzero(drawing.max(1)), np.flatnonzero(drawing.max(0))
        glyphs.append(drawing[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    gap = int(rng.uniform(0.1, 0.4) * height)
    canvas = _in_a_line(glyphs, gap, rng, canvas_size, margin=int(0.025 * ch))
    return 255 - canvas if rng.integers(2) else canvas


NON_DIGITS = ("letter", "handwritten letter", "scribble", "marks")
#: Letters drawn like a digit in many hands (O and 0, l and 1, S and 5, Z and 2, B and 8, g and 9,
#: b and 6...): a model of digits cannot refuse them, so they are counted apart.
DIGIT_LIKE_LETTERS = "ODQoIlijJZzSsBbGgqT"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HAND_FONTS = ("hershey-script-simplex", "hershey-simplex", "hershey-italic")  # stroke fonts, traced as by hand


def traced(text: str, rng: np.random.Generator, *, fonts: list[str], canvas_size=(280, 280)) -> np.ndarray:
    """``text`` in one of OpenCV's stroke ``fonts`` (:data:`HAND_FONTS`), re-traced with a round
    brush as :func:`redraw` traces a digit: handwriting-like, white on black."""
    font = str(rng.choice(fonts))
    glyph = cv2.resize(render_glyph(text, font, 40, 1.0), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small = np.zeros((28, 28), np.uint8)
    g = glyph[:24, :24]
    small[2 : 2 + g.shape[0], 2 : 2 + g.shape[1]] = g
    return redraw(small, rng, canvas_size=canvas_size, invert=False)


def straight_one(rng: np.random.Generator, canvas_size=(280, 280)) -> np.ndarray:
    """A 1 as a mouse draws it: one straight stroke, up to 20 degrees off vertical (exactly
    vertical a third of the time, as a steady hand draws it), any brush, length and place;
    white on black."""
    ch, cw = canvas_size
    length = rng.uniform(0.2, 0.85) * ch
    angle = np.deg2rad(rng.uniform(-20, 20) if rng.random() < 2 / 3 else 0.0)
    x, y = rng.uniform(0.2 * cw, 0.8 * cw), rng.uniform(0.05 * ch, ch - length * np.cos(angle) - 0.05 * ch)
    end = (int(x + length * np.sin(angle)), int(y + length * np.cos(angle)))
    canvas = np.zeros(canvas_size, np.uint8)
    cv2.line(canvas, (int(x), int(y)), end, 255, int(rng.integers(3, max(4, int(0.14 * length)))), cv2.LINE_AA)
    return canvas


def non_digit(kind: str, rng: np.random.Generator, *, fonts: list[str] | None = None,
              canvas_size: tuple[int, int] = (280, 280)) -> tuple[np.ndarray, str]:
    """A drawing that is not a digit, white on black, and what it is:

    - ``"letter"``: a printed letter (A-Z, a-z) in a random font of ``fonts``, any weight;
    - ``"handwritten letter"``: a letter of OpenCV's stroke fonts (``fonts`` of
      :data:`HAND_FONTS`) re-traced with a round brush of random width, as :func:`redraw` traces
      a digit;
    - ``"scribble"``: a random smooth curve through 6-9 points (a tangle: through fewer, a
      curve is often a fair 1, 2, 6 or 7), or a zigzag of 4-7 turns, with any brush;
    - ``"marks"``: what is on a canvas before a digit is: a dot, a short flat dash (a steep one
      is a 1), a few specks.
    """
    ch, cw = canvas_size
    if kind == "letter":
        letter = LETTERS[int(rng.integers(len(LETTERS)))]
        return typed(letter, rng, fonts=fonts or font_names(), canvas_size=canvas_size), letter
    if kind == "handwritten letter":
        letter = LETTERS[int(rng.integers(len(LETTERS)))]
        return traced(letter, rng, fonts=fonts or list(HAND_FONTS), canvas_size=canvas_size), letter
    canvas = np.zeros(canvas_size, np.uint8)
    brush = int(rng.integers(3, 25))
    if kind == "scribble":
        if rng.random() < 0.7:
            points = rng.uniform([0.1 * cw, 0.1 * ch], [0.9 * cw, 0.9 * ch], (int(rng.integers(6, 10)), 2))
            t = np.linspace(0, 1, len(points))
            fine = np.linspace(0, 1, 200)
            from scipy.interpolate import CubicSpline

            curve = CubicSpline(t, points)(fine)
        else:
            turns = int(rng.integers(4, 8))
            xs = np.linspace(0.15 * cw, 0.85 * cw, turns)
            ys = np.where(np.arange(turns) % 2, 0.3 * ch, 0.7 * ch) + rng.normal(0, 0.05 * ch, turns)
            curve = np.stack([xs, ys], 1)
        curve = np.clip(curve, 0, [cw - 1, ch - 1]).astype(np.int32)
        cv2.polylines(canvas, [curve], False, 255, brush, cv2.LINE_AA)
        return canvas, "scribble"
    if kind == "marks":
        choice = int(rng.integers(3))
        x, y = int(rng.integers(20, cw - 20)), int(rng.integers(20, ch - 20))
        if choice == 0:
            cv2.circle(canvas, (x, y), brush // 2 + 1, 255, -1, cv2.LINE_AA)
        elif choice == 1:
            angle = rng.uniform(-np.pi / 6, np.pi / 6)
            length = rng.uniform(0.05, 0.2) * ch
            end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
            cv2.line(canvas, (x, y), end, 255, brush, cv2.LINE_AA)
        else:
            for _ in range(int(rng.integers(2, 7))):
                centre = (int(rng.integers(0, cw)), int(rng.integers(0, ch)))
                cv2.circle(canvas, centre, int(rng.integers(1, 6)), 255, -1)
        return canvas, "marks"
    raise ValueError(f"unknown kind {kind!r}: one of {', '.join(NON_DIGITS)}")


def optdigits_as_mnist(images8: np.ndarray) -> np.ndarray:
    """UCI optdigits digits (``sklearn.datasets.load_digits``: 8x8, values 0-16, 43 writers who
    are not MNIST's) as MNIST-convention 28x28 uint8 images, ink bright: upscaled bicubically to
    20x20 and centred with a 4-pixel margin. What the model alone reads on them is the ceiling
    of the optdigits fixtures."""
    out = np.zeros((len(images8), 28, 28), np.uint8)
    for k, digit in enumerate(np.asarray(images8, np.float32).reshape(-1, 8, 8)):
        out[k, 4:24, 4:24] = np.clip(cv2.resize(digit / 16, (20, 20), interpolation=cv2.INTER_CUBIC) * 255, 0, 255)
    return out


def _scan_glyph(ink: np.ndarray, height: int) -> np.ndarray:
    """A digit's ink (any size, ink bright) cropped to its ink and scaled to ``height`` pixels."""
    rows, cols = np.flatnonzero(ink.max(1) > 0.25 * ink.max()), np.flatnonzero(ink.max(0) > 0.25 * ink.max())
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32)
    width = max(1, round(ink.shape[1] * height / ink.shape[0]))
    return np.clip(cv2.resize(ink / ink.max(), (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def _scan(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Float ink (1 = ink) as a scanned page: dark ink on white paper (or, one time in four,
    light on dark), a little paper texture and sensor noise; uint8."""
    paper, mark = (rng.uniform(215, 250), rng.uniform(10, 70)) if rng.random() < 0.75 else \
        (rng.uniform(10, 50), rng.uniform(190, 250))
    image = paper + (mark - paper) * ink + rng.normal(0, rng.uniform(1, 5), ink.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def scanned_digit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One digit (an MNIST image, or an optdigits one through :func:`optdigits_as_mnist`) as an
    image file a user would give ``workbench predict``: 48-192 pixels high, upscaled smoothly,
    with a margin of a fifth to a half of its height, scanned (:func:`_scan`)."""
    height = int(rng.integers(48, 193))
    glyph = _scan_glyph(cv2.resize(image, (112, 112), interpolation=cv2.INTER_CUBIC), height)
    top, left = (int(rng.uniform(0.2, 0.5) * height) for _ in range(2))
    ink = np.zeros((height + 2 * top, glyph.shape[1] + 2 * left), np.float32)
    ink[top : top + height, left : left + glyph.shape[1]] = glyph
    return _scan(ink, rng)


def scanned_row(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A row of digits written with gaps as people leave them, from touching to a digit's
    width apart (the same for the row, each digit a little off the line and in size), scanned:
    digits 48-128 pixels high. ``images``: MNIST-convention 28x28 digits."""
    height = int(rng.integers(48, 129))
    glyphs = [_scan_glyph(cv2.resize(image, (112, 112), interpolation=cv2.INTER_CUBIC),
                          int(height * rng.uniform(0.9, 1.1))) for image in images]
    gap = int(rng.uniform(0.0, 1.0) * np.mean([g.shape[1] for g in glyphs]))
    size = (3 * height, sum(g.shape[1] for g in glyphs) + gap * (len(glyphs) - 1) + 2 * height)
    return _scan(_in_a_line(glyphs, gap, rng, size, height // 2), rng)


def scanned_dark(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Float ink (1 = ink) scanned plainly: dark ink (31) on light paper (235), sensor noise of
    3 levels; uint8. (:func:`_scan` varies paper, ink and polarity.)"""
    return np.clip(235 - 204 * ink + rng.normal(0, 3, ink.shape), 0, 255).astype(np.uint8)


def row_with_a_mark(digits: np.ndarray, rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """A row of five of ``digits`` (MNIST-convention 28x28) with one replaced by a non-digit of
    ``kind`` (:func:`non_digit`: "handwritten letter", "scribble", ...), 40-90 pixels high, gaps
    of 0.15-0.6 digit heights, scanned dark on light. Returns the scan, the indices of the five
    digits picked and the place of the mark."""
    picked = rng.choice(len(digits), 5, replace=False)
    height = int(rng.integers(40, 90))
    glyphs = [_scan_glyph(cv2.resize(digits[i], (112, 112), interpolation=cv2.INTER_CUBIC), height) for i in picked]
    odd = int(rng.integers(5))
    glyphs[odd] = _scan_glyph(non_digit(kind, rng)[0], height)
    ink = _in_a_line(glyphs, int(rng.uniform(0.15, 0.6) * height), rng, (3 * height, 9 * height), height // 2)
    return scanned_dark(ink, rng), picked, odd

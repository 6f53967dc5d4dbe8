"""A photographed page: digits printed on a sheet, the sheet on a table in front of a camera
(tilted, in perspective, uneven light, blur, sensor noise). What the ``demo`` camera source films
(:class:`workbench.live.sources.DemoSource`), and the page fixtures of :mod:`workbench.synth`."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Page:
    """A photographed page: the BGR image, and its digits' boxes ``(x, y, w, h)`` and labels
    in reading order (left to right, line by line)."""

    image: np.ndarray
    boxes: list[tuple[int, int, int, int]]
    labels: list[int]


def layout(digits: np.ndarray, rng: np.random.Generator, *, line_lengths: list[int], digit_px: int):
    """Print 28x28 digits in lines on a paper of ink-only float32 (1 = ink); returns the sheet
    and each digit's box on it, in reading order."""
    gap = digit_px // 4
    width = max(line_lengths) * (int(1.1 * digit_px) + 2 * gap) + 2 * digit_px
    height = len(line_lengths) * (digit_px + 2 * gap) + 2 * digit_px
    sheet = np.zeros((height, width), np.float32)
    boxes, i = [], 0
    for line, count in enumerate(line_lengths):
        x = digit_px + int(rng.integers(0, gap + 1))
        y0 = digit_px + line * (digit_px + 2 * gap)
        for _ in range(count):
            size = int(digit_px * rng.uniform(0.9, 1.1))
            glyph = cv2.resize(digits[i].astype(np.float32) / 255, (size, size), interpolation=cv2.INTER_LINEAR)
            y = y0 + int(rng.integers(-gap // 2, gap // 2 + 1))
            sheet[y : y + size, x : x + size] = np.maximum(sheet[y : y + size, x : x + size], glyph)
            rows, cols = np.flatnonzero((glyph > 0.2).any(1)), np.flatnonzero((glyph > 0.2).any(0))
            boxes.append((x + cols[0], y + rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1))
            x += size + gap + int(rng.integers(0, gap + 1))
            i += 1
    return sheet, boxes


def photograph(
    sheet: np.ndarray,
    boxes: list,
    rng: np.random.Generator,
    *,
    frame_size: tuple[int, int] = (480, 640),
    tilt: float = 0.0,
    offset: tuple[float, float] = (0.0, 0.0),
    perspective: float = 0.0,
    light: float = 1.0,
    gradient: float = 0.3,
    gradient_angle: float = 0.0,
    blur: float = 0.0,
    noise: float = 0.0,
    dark_ink: bool = True,
) -> Page:
    """Photograph an ink sheet: paper on a table, tilted by ``tilt`` degrees, moved by
    ``offset`` (fractions of the frame), corners jittered by ``perspective`` (fraction of the
    sheet size), lit at ``light`` with a linear fall-off of ``gradient`` along
    ``gradient_angle`` degrees, blurred (Gaussian sigma ``blur`` px) and with Gaussian sensor
    noise of ``noise`` (0-1 scale)."""
    fh, fw = frame_size
    sh, sw = sheet.shape
    fit = 0.85 * min(fw / sw, fh / sh)
    corners = np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]])
    jitter = rng.uniform(-perspective, perspective, (4, 2)) * np.float32([sw, sh])
    centre = np.float32([sw / 2, sh / 2])
    angle = np.deg2rad(tilt)
    rotation = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = ((corners + jitter - centre) * fit) @ rotation.T + np.float32(
        [fw / 2 + offset[0] * fw, fh / 2 + offset[1] * fh]
    )
    homography = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    ink = cv2.warpPerspective(sheet, homography, (fw, fh), flags=cv2.INTER_LINEAR)
    paper = cv2.warpPerspective(np.ones_like(sheet), homography, (fw, fh), flags=cv2.INTER_LINEAR)
    if dark_ink:  # white paper, dark ink, on a darker table
        table, surface, mark = 0.25 + 0.1 * rng.random(), 0.9, 0.12
    else:  # a dark board with light chalk, on a lighter wall
        table, surface, mark = 0.6 + 0.1 * rng.random(), 0.15, 0.85
    image = table * (1 - paper) + paper * (surface + (mark - surface) * ink)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    direction = np.deg2rad(gradient_angle)
    ramp = ((xx - fw / 2) * np.cos(direction) + (yy - fh / 2) * np.sin(direction)) / max(fw, fh)
    image = image * light * (1 - gradient * (ramp + 0.5))
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if noise > 0:
        image = image + rng.normal(0, noise, image.shape).astype(np.float32)
    image = image[..., None] * np.float32([0.95, 1.0, 1.04])  # warm light: BGR
    image = np.clip(image * 255, 0, 255).astype(np.uint8)
    frame_boxes = []
    for x, y, w, h in boxes:
        pts = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])[None]
        mapped = cv2.perspectiveTransform(pts, homography)[0]
        x0, y0 = np.floor(mapped.min(0)).astype(int)
        x1, y1 = np.ceil(mapped.max(0)).astype(int)
        frame_boxes.append((int(x0), int(y0), int(x1 - x0), int(y1 - y0)))
    return Page(image, frame_boxes, [])


def render_page(
    digits: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    *,
    frame_size: tuple[int, int] = (480, 640),
    max_tilt: float = 12.0,
) -> Page:
    """A random photograph of a page holding ``digits`` (28x28 uint8, MNIST test digits) in one
    or two lines: random tilt up to ``max_tilt`` degrees, perspective, light, blur, noise and
    ink polarity (a quarter of the pages are light chalk on a dark board)."""
    n = len(digits)
    lines = [n] if n <= 4 or rng.random() < 0.5 else [n - n // 2, n // 2]
    digit_px = int(rng.uniform(0.1, 0.16) * frame_size[0] * (1.3 if len(lines) == 1 else 1.0))
    sheet, boxes = layout(digits, rng, line_lengths=lines, digit_px=digit_px)
    page = photograph(
        sheet, boxes, rng, frame_size=frame_size,
        tilt=rng.uniform(-max_tilt, max_tilt),
        offset=tuple(rng.uniform(-0.04, 0.04, 2)),
        perspective=rng.uniform(0, 0.05),
        light=rng.uniform(0.6, 1.05),
        gradient=rng.uniform(0, 0.5),
        gradient_angle=rng.uniform(0, 360),
        blur=rng.uniform(0, 1.2),
        noise=rng.uniform(0, 0.04),
        dark_ink=rng.random() >= 0.25,
    )
    return Page(page.image, page.boxes, [int(v) for v in labels])

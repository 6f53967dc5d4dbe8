"""Corruptions of MNIST digits at increasing strength, for robustness curves (the kinds of
MNIST-C: Mu & Gilmer, 2019). Each takes and returns ``(n, 28, 28)`` uint8 images, white ink on
black, and is deterministic for a given ``random_state``.

>>> X = np.zeros((2, 28, 28), np.uint8); X[:, 8:20, 13:15] = 255
>>> corrupt(X, "rotation", 30).shape
(2, 28, 28)
"""

from __future__ import annotations

import cv2
import numpy as np

#: kind -> (levels from none to strong, unit of the level)
CORRUPTIONS: dict[str, tuple[tuple[float, ...], str]] = {
    "rotation": ((0, 15, 30, 45, 60), "degrees"),
    "shift": ((0, 2, 4, 6, 8), "pixels"),
    "scale": ((1.0, 0.8, 0.65, 0.5, 0.35), "size factor"),
    "noise": ((0.0, 0.1, 0.2, 0.35, 0.5), "Gaussian sigma (0-1 intensity)"),
    "blur": ((0.0, 0.75, 1.25, 1.75, 2.5), "Gaussian sigma (pixels)"),
    "thickness": ((-1, 0, 1, 2, 3), "pixels added to each side of a stroke"),
}


def _affine(X: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    warp = cv2.warpAffine
    return np.stack([warp(img, m, (28, 28), flags=cv2.INTER_LINEAR) for img, m in zip(X, matrices, strict=True)])


def corrupt(X: np.ndarray, kind: str, level: float, random_state: int = 0) -> np.ndarray:
    """Return ``X`` corrupted by ``kind`` at ``level`` (see :data:`CORRUPTIONS`).

    Rotations turn each image by ``level`` degrees, clockwise or not at random; shifts move it
    ``level`` pixels in a random direction; scale shrinks it about the centre; noise adds
    Gaussian noise; blur applies a Gaussian blur; thickness dilates (or, below 0, erodes) the
    strokes. A level of no change returns a copy.
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {kind!r}; known: {', '.join(CORRUPTIONS)}")
    X = np.asarray(X, np.uint8)
    rng = np.random.default_rng(random_state)
    n = len(X)
    if kind == "rotation":
        signs = rng.choice([-1.0, 1.0], n)
        mats = np.stack([cv2.getRotationMatrix2D((13.5, 13.5), float(level * s), 1.0) for s in signs])
        return _affine(X, mats)
    if kind == "shift":
        angle = rng.uniform(0, 2 * np.pi, n)
        mats = np.zeros((n, 2, 3))
        mats[:, 0, 0] = mats[:, 1, 1] = 1
        mats[:, 0, 2], mats[:, 1, 2] = level * np.cos(angle), level * np.sin(angle)
        return _affine(X, mats)
    if kind == "scale":
        mat = cv2.getRotationMatrix2D((13.5, 13.5), 0.0, float(level))
        return _affine(X, np.repeat(mat[None], n, axis=0))
    if kind == "noise":
        noisy = X / 255.0 + rng.normal(0.0, level, X.shape)
        return (np.clip(noisy, 0, 1) * 255).round().astype(np.uint8)
    if kind == "blur":
        if level == 0:
            return X.copy()
        return np.stack([cv2.GaussianBlur(img, (0, 0), float(level)) for img in X])
    # thickness
    if level == 0:
        return X.copy()
    size = 2 * int(abs(level)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    op = cv2.dilate if level > 0 else cv2.erode
    return np.stack([op(img, kernel) for img in X])

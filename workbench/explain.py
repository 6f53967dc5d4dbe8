"""Why a model gave its answer: the top classes, and which strokes the answer rests on.

:func:`saliency` is an occlusion map: a small patch of the 28x28 image is covered (set to the
background) at every position, all at once in one batch, and each pixel scores how much
covering it lowers the probability of the answer. It needs nothing but ``predict_proba``, so
it explains every pipeline, the CNN as well as the classical ones, and reads plainly: a high
value on a stroke means "without this stroke the model would be less sure". The patches are
covered after the pipeline's :class:`~workbench.transforms.MnistNormalize` (when it has one),
on the image the classifier sees, so covering a stroke never re-centres the digit.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

PATCH, STRIDE = 6, 3  # 8 x 8 = 64 covered images per explanation: one of the CNN's compiled batch sizes


def top_classes(probabilities, classes, k: int = 3) -> list[tuple[int, float]]:
    """The ``k`` most probable ``(label, probability)``, most probable first."""
    order = np.argsort(probabilities)[::-1][:k]
    return [(int(classes[i]), float(probabilities[i])) for i in order]


def _split(pipeline):
    """``(front, rest)``: the steps up to the last MnistNormalize, and the steps after it."""
    from workbench.transforms import MnistNormalize

    steps = getattr(pipeline, "steps", None)
    if steps:
        last = [i for i, (_, step) in enumerate(steps) if isinstance(step, MnistNormalize)]
        if last and last[-1] + 1 < len(steps):
            return pipeline[: last[-1] + 1], pipeline[last[-1] + 1 :]
    return None, pipeline


def saliency(pipeline, image: np.ndarray, *, patch: int = PATCH, stride: int = STRIDE) -> tuple[np.ndarray, np.ndarray]:
    """Occlusion saliency of a fitted pipeline's answer for one MNIST-format image.

    Parameters
    ----------
    pipeline : fitted classifier or Pipeline with ``predict_proba``
    image : ndarray (28, 28) uint8, white ink on black
    patch, stride : int
        Side of the covered square and step between its positions, in pixels.

    Returns
    -------
    saliency : ndarray (28, 28) float32 in [0, 1]
        For each pixel, the mean drop of the answer's probability over the patches covering
        it (0 where covering changes nothing or makes the answer more likely).
    seen : ndarray (28, 28) uint8
        The image the map refers to: what the classifier sees after normalisation.
    """
    image = np.asarray(image)
    if image.shape != (28, 28):
        raise ValueError(f"saliency takes one 28x28 image, got shape {image.shape}")
    front, rest = _split(pipeline)
    given = front.transform(image[None]) if front is not None else image[None]
    layout = given.shape  # the rest of the pipeline takes what the front gives: flat or 28x28, 0-1 or 0-255
    corners = range(0, 28 - patch + 1, stride)
    positions = [(r, c) for r in corners for c in corners]
    batch = np.repeat(given.reshape(1, 28, 28), len(positions), axis=0)
    for i, (r, c) in enumerate(positions):
        batch[i, r : r + patch, c : c + patch] = 0
    base = np.asarray(rest.predict_proba(given))[0]
    answer = int(np.argmax(base))
    proba = np.asarray(rest.predict_proba(batch.reshape(len(batch), *layout[1:])))
    drop = np.maximum(base[answer] - proba[:, answer], 0)
    total, count = np.zeros((28, 28), np.float32), np.zeros((28, 28), np.float32)
    for d, (r, c) in zip(drop, positions, strict=True):
        total[r : r + patch, c : c + patch] += d
        count[r : r + patch, c : c + patch] += 1
    seen = given.reshape(28, 28) * (255 if given.max() <= 1 else 1)
    return np.clip(total / np.maximum(count, 1), 0, 1), np.clip(seen, 0, 255).astype(np.uint8)


def heat(image: np.ndarray, saliency_map: np.ndarray, side: int = 140) -> np.ndarray:
    """An RGB picture (side x side, uint8) of the image in grey with the saliency in colour over
    it (normalised to its own maximum, so a faint map still shows where it is)."""
    import cv2

    peak = float(saliency_map.max())
    scaled = (255 * saliency_map / peak).astype(np.uint8) if peak > 0 else np.zeros((28, 28), np.uint8)
    colour = cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)[..., ::-1]
    grey = np.repeat(image[..., None], 3, axis=2)
    mixed = (0.45 * grey + 0.75 * colour).clip(0, 255).astype(np.uint8)
    return cv2.resize(mixed, (side, side), interpolation=cv2.INTER_NEAREST)


def explain_png(path: str | Path, reading, pipeline, *, title: str = "") -> Path:
    """Write one PNG explaining every digit of a reading: what the model saw, the saliency over
    it, and the top three classes with their probabilities."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    digits = reading.digits
    columns = max(1, len(digits))
    figure, axes = plt.subplots(2, columns, figsize=(max(3.2, 2.4 * columns), 5.8), squeeze=False)
    for i, digit in enumerate(digits):
        saliency_map, seen = saliency(pipeline, digit.image)
        axes[0, i].imshow(seen, cmap="gray", vmin=0, vmax=255)
        best = ", ".join(f"{label}: {p:.1%}" for label, p in top_classes(digit.probabilities, pipeline.classes_))
        axes[0, i].set_title(f"answer {digit.text}\n{best}", fontsize=8)
        axes[1, i].imshow(heat(seen, saliency_map))
        axes[1, i].set_title("strokes it rests on", fontsize=8)
    if not digits:
        axes[0, 0].text(0.5, 0.5, "no digits found", ha="center", va="center")
    for axis in axes.ravel():
        axis.set_axis_off()
    # the title wrapped to the figure's width (about 13 characters an inch at 8 points): one
    # digit's figure is 3.2 inches wide, and a long file name or sentence ran off both sides
    said = [title, f"model {reading.model}: what it saw (top), where covering the image lowers its answer "
            "most (bottom)"]
    width = max(24, int(13 * figure.get_figwidth()))
    figure.suptitle("\n".join(textwrap.fill(line, width) for line in said if line), fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight", pad_inches=0.1)
    plt.close(figure)
    return path

"""The digit gate at run time: what refuses letters, scribbles and marks in front of every model.

A digit classifier answers a digit for anything; the gate is a network of its own, trained on
digits as they reach a model against synthetic non-digits (its recipe, thresholds and
measurements: :mod:`workbench.gate_training`). The :class:`~workbench.live.predictor.Predictor`
loads it from ``models/gate/`` and asks it about every digit it reads, whichever model is active.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

GATE_FOLDER, GATE_NAME = "gate", "digit_gate"


@dataclass(frozen=True)
class Gate:
    """A fitted gate and its two thresholds.

    Attributes
    ----------
    pipeline : fitted pipeline
        Classifies MNIST-format 28x28 images as digit (1) or not (0); starts with the models'
        normaliser (``MnistNormalize``).
    threshold : float
        Below this score a drawing is refused (chosen to refuse at most 0.5% of held-out digits).
    photo_threshold : float
        The same for digits cut out of photos: stricter on digits, as a page is read right only
        when every digit of it is kept (at most 0.1% refused).
    """

    pipeline: object
    threshold: float
    photo_threshold: float

    def score(self, images: np.ndarray, *, normalised: bool = False) -> np.ndarray:
        """How much each image looks like a digit (0-1). ``normalised``: the images already went
        through the pipeline's first step (the normaliser the Predictor shares with the model)."""
        return digit_score(self.pipeline[1:] if normalised else self.pipeline, images)

    def refuses(self, images: np.ndarray, *, photo: bool = False, normalised: bool = False) -> np.ndarray:
        """Which images are not digits, at the threshold for drawings or for photos."""
        return self.score(images, normalised=normalised) < (self.photo_threshold if photo else self.threshold)


def digit_score(pipeline, images: np.ndarray) -> np.ndarray:
    """A gate pipeline's probability that each image is a digit (class 1): a fitted gate before
    its thresholds are chosen, or a :class:`Gate`'s."""
    return np.asarray(pipeline.predict_proba(images))[:, list(pipeline.classes_).index(1)]


def refused(proba: np.ndarray, gate_refused: np.ndarray, threshold: float) -> np.ndarray:
    """What the Predictor refuses to call a digit: the gate says no, or the model is unsure (its
    top probability is under the Predictor's ``threshold``)."""
    return gate_refused | (np.asarray(proba).max(axis=1) < threshold)


def gate_dir(directory: str | Path | None = None) -> Path:
    """The folder of the gate in use: the gate folder of ``directory`` when given, else the
    user's (:func:`workbench.store.models_dir`) when it holds a gate, else the shipped one."""
    from workbench.store import models_dir, shipped_dir

    if directory is not None:
        return Path(directory) / GATE_FOLDER
    yours = models_dir() / GATE_FOLDER
    return yours if (yours / f"{GATE_NAME}.json").exists() else shipped_dir() / GATE_FOLDER


def load_gate(directory: str | Path | None = None) -> Gate | None:
    """The saved gate (checksum and types checked as for any model), or None when there is none."""
    from workbench.store import load_model_file, resolve_model

    folder = gate_dir(directory)
    if not (folder / f"{GATE_NAME}.json").exists():
        return None
    path, meta = resolve_model(GATE_NAME, folder)
    return Gate(load_model_file(path, meta.get("sha256")), float(meta["threshold"]), float(meta["frame_threshold"]))

"""What a reading is: the digits read from a drawing or a frame, and the model that read them.
The types every part of the live layer shares (the Predictor makes them, the camera loop, the
tracker, the log and the app show or store them)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Digit:
    """One digit read from an image: its box ``(x, y, w, h)``, the label (None when unsure),
    the confidence (the top class probability), every class's probability and the 28x28
    image the model saw."""

    box: tuple[int, int, int, int]
    label: int | None
    confidence: float
    probabilities: np.ndarray = field(repr=False)
    image: np.ndarray = field(repr=False)
    refused: bool = False  # the digit gate says it is not a digit (see workbench.live.gate)

    @property
    def text(self) -> str:
        """The label; ``?`` when the model is unsure; nothing when it is not a digit."""
        return "" if self.refused else "?" if self.label is None else str(self.label)


@dataclass(frozen=True)
class Reading:
    """All digits of one frame in reading order, the model that read them and the time taken."""

    digits: list[Digit]
    model: str
    model_sha256: str
    seconds: float

    @property
    def text(self) -> str:
        """The labels in reading order, unsure digits as ``?``; refused ones (not digits) left out."""
        return "".join(d.text for d in self.digits)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "digits": [
                {"label": d.label, "confidence": round(d.confidence, 4), "box": list(d.box),
                 **({"refused": "not a digit"} if d.refused else {})} for d in self.digits
            ],
        }

"""What a reading is: the digits read from a drawing or a frame, and the model that read them.
The types every part of the live layer shares (the Predictor makes them, the camera loop, the
tracker, the log and the app show or store them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

# A mark the digit gate refuses keeps its place in the text as "?" when it sits in a row of
# digits: on a line with digits the gate accepts, ROW_HEIGHT times their median height, its
# centre within half that height of theirs (the same band), and no farther than ROW_GAP digit
# heights from its nearest neighbour on the line. A number that loses a digit looks like
# another valid number; a "?" says a digit was there. A mark apart from the digits (a word, a
# scribble in the margin, a speck) is left out, as before.
ROW_HEIGHT = (0.6, 1.6)
ROW_GAP = 1.0


@dataclass(frozen=True)
class Digit:
    """One digit read from an image: its box ``(x, y, w, h)``, the label (None when unsure),
    the confidence (the top class probability), every class's probability, the 28x28 image the
    model saw, whether the digit gate refused it, and the line of the image it was found on."""

    box: tuple[int, int, int, int]
    label: int | None
    confidence: float
    probabilities: np.ndarray = field(repr=False)
    image: np.ndarray = field(repr=False)
    refused: bool = False  # the digit gate says it is not a digit (see workbench.live.gate)
    line: int = 0  # lines in reading order, top first (the frame reader's)

    @property
    def text(self) -> str:
        """The label; ``?`` when the model is unsure; nothing when it is not a digit (a refused
        mark in a row of digits is ``?`` in :attr:`Reading.text`)."""
        return "" if self.refused else "?" if self.label is None else str(self.label)


def marks_in_rows(digits: list[Digit]) -> set[int]:
    """Indices of the refused marks that sit in a row of accepted digits (see :data:`ROW_HEIGHT`)."""
    lines: dict[int, list[int]] = {}
    for i, digit in enumerate(digits):
        lines.setdefault(digit.line, []).append(i)
    found = set()
    for members in lines.values():
        accepted = [digits[i].box for i in members if not digits[i].refused]
        if not accepted:
            continue
        height = float(np.median([h for _, _, _, h in accepted]))
        band = float(np.median([y + h / 2 for _, y, _, h in accepted]))
        for i in members:
            x, y, w, h = digits[i].box
            if not digits[i].refused or not ROW_HEIGHT[0] * height <= h <= ROW_HEIGHT[1] * height:
                continue
            if abs(y + h / 2 - band) > height / 2:
                continue
            gaps = [max(0, max(x, u) - min(x + w, u + v)) for u, _, v, _ in (digits[j].box for j in members if j != i)]
            if gaps and min(gaps) <= ROW_GAP * height:
                found.add(i)
    return found


@dataclass(frozen=True)
class Reading:
    """All digits of one frame in reading order, the model that read them and the time taken."""

    digits: list[Digit]
    model: str
    model_sha256: str
    seconds: float

    @cached_property
    def _in_rows(self) -> set[int]:
        return marks_in_rows(self.digits)

    @property
    def text(self) -> str:
        """The labels in reading order, unsure digits as ``?``, and refused marks as ``?`` where
        they sit in a row of digits (:func:`marks_in_rows`); other refused marks left out."""
        return "".join("?" if i in self._in_rows else d.text for i, d in enumerate(self.digits))

    @property
    def refused(self) -> int:
        """How many marks the digit gate refused (shown as ``?`` or left out)."""
        return sum(d.refused for d in self.digits)

    def summary(self) -> str:
        """The text as a person reads it: the digits, and what was refused, said in words."""
        text = self.text or "(no digits found)"
        if not self.refused:
            return text
        kept = len(self._in_rows)
        said = f"{self.refused} mark{'s' * (self.refused > 1)} refused: not a digit"
        if kept:
            said += f"; {'shown' if kept == self.refused else f'{kept} shown'} as ?"
        return f"{text}   ({said})" if self.text else f"(no digits found; {said})"

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "digits": [
                {"label": d.label, "confidence": round(d.confidence, 4), "box": list(d.box),
                 **({"refused": "not a digit", "in_row": i in self._in_rows} if d.refused else {})}
                for i, d in enumerate(self.digits)
            ],
        }

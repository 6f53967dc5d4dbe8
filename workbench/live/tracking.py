"""Temporal smoothing for video: a digit seen in consecutive frames keeps a stable label.

Digits are tracked from frame to frame by the overlap of their boxes; each track averages the
class probabilities of its last few sightings, so that one blurred frame does not flip a label.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from workbench.live.reading import Reading


def iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


@dataclass
class _Track:
    box: tuple[int, int, int, int]
    history: deque = field(default_factory=deque)
    missed: int = 0


class DigitTracker:
    """Smooths the readings of a video stream.

    Parameters
    ----------
    classes : array-like
        The model's classes, in the order of its probabilities.
    window : int, default=5
        How many recent sightings of a digit are averaged.
    max_missed : int, default=3
        A track is dropped after this many frames without its digit.
    min_iou : float, default=0.3
        Boxes overlapping at least this much (intersection over union) are the same digit.
    threshold : float, default=0.7
        Below this averaged confidence the digit is reported as unsure.
    """

    def __init__(self, classes, *, window: int = 5, max_missed: int = 3, min_iou: float = 0.3, threshold: float = 0.7):
        self.classes = np.asarray(classes)
        self.window = window
        self.max_missed = max_missed
        self.min_iou = min_iou
        self.threshold = threshold
        self._tracks: list[_Track] = []

    def update(self, reading: Reading) -> Reading:
        """Feed one frame's reading; returns it with each digit's label and confidence averaged
        over its track (boxes and images are this frame's)."""
        unmatched = list(self._tracks)
        smoothed = []
        for digit in reading.digits:
            best = max(unmatched, key=lambda t: iou(t.box, digit.box), default=None)
            if best is None or iou(best.box, digit.box) < self.min_iou:
                best = _Track(digit.box, deque(maxlen=self.window))
                self._tracks.append(best)
            else:
                unmatched.remove(best)
            best.box, best.missed = digit.box, 0
            best.history.append(digit.probabilities)
            mean = np.mean(best.history, axis=0)
            top = int(np.argmax(mean))
            confidence = float(mean[top])
            label = int(self.classes[top]) if confidence >= self.threshold else None
            smoothed.append(replace(digit, label=label, confidence=confidence, probabilities=mean))
        for track in unmatched:
            track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        return replace(reading, digits=smoothed)

    def reset(self) -> None:
        self._tracks = []


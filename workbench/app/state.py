"""The app's state: one dataclass that the panels read and change; no DearPyGui in here."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from workbench.live.camera import CameraLoop
from workbench.live.frame import Reading
from workbench.live.log import PredictionLog
from workbench.live.predictor import Predictor

CANVAS_SIZE = 280  # pixels of the drawing canvas, square
CAMERA_SIZE = (480, 640)  # (height, width) of the camera view


@dataclass
class AppState:
    predictor: Predictor
    log: PredictionLog | None
    log_error: str | None = None
    camera: CameraLoop | None = None
    camera_error: str | None = None
    camera_frame_shown: int = -1
    snapshot_dir: Path = Path("snapshots")
    # Drawing: strokes as (brush width, canvas points); the brush for the next stroke.
    strokes: list[tuple[int, list[tuple[int, int]]]] = field(default_factory=list)
    brush: int = 18
    drawing: bool = False
    draw_reading: Reading | None = None
    draw_record: int | None = None  # the log's record of the last drawing read (what Teach corrects)
    show_saliency: bool = False
    # Models: what the model panel lists, a swap under way, the "compare all" answers.
    models: list[dict] = field(default_factory=list)
    pending_swap: Future | None = None
    model_message: str | None = None  # why the last swap failed
    log_rows_shown: int = -1
    # Adapting the active model to the log's corrections (in a background thread).
    adapting: Future | None = None
    adapt_status: str = ""

    def canvas_image(self) -> np.ndarray:
        """The drawing as a white-on-black uint8 image, rendered from the strokes."""
        canvas = np.zeros((CANVAS_SIZE, CANVAS_SIZE), np.uint8)
        for brush, stroke in self.strokes:
            points = np.array(stroke, np.int32)
            if len(points) == 1:
                cv2.circle(canvas, tuple(int(v) for v in points[0]), max(1, brush // 2), 255, -1, cv2.LINE_AA)
            else:
                cv2.polylines(canvas, [points], False, 255, brush, cv2.LINE_AA)
        return canvas

"""The app's state: one dataclass that the panels read and change; no DearPyGui in here."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from workbench.live.camera import CameraLoop
from workbench.live.catalogue import ModelCatalogue
from workbench.live.log import PredictionLog
from workbench.live.predictor import Predictor
from workbench.live.reading import Reading
from workbench.live.sources import Source

CANVAS_SIZE = 280  # pixels of the drawing canvas, square
CAMERA_SIZE = (480, 640)  # (height, width) of the camera view


@dataclass
class AppState:
    log: PredictionLog | None = None
    log_error: str | None = None
    # The active model's Predictor; None while the first model loads (the window opens at once).
    predictor: Predictor | None = None
    start_model: str = "cnn"  # the model the app was started with: its name shows while it loads
    starting: Future | None = None  # the Predictor being built, in the background
    start_error: str | None = None  # why it could not be built
    directory: Path | None = None  # the models folder (None: the default)
    camera_waiting: Source | None = None  # a source opened before the model was ready: read once it is
    model_wanted: str | None = None  # a model chosen while the first one loads: swapped in after it
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
    catalogue: ModelCatalogue = field(default_factory=ModelCatalogue)  # every model, loaded for "compare all"
    models_stale: bool = False  # a model was saved while the app runs: list the models again
    pending_swap: Future | None = None
    model_message: str | None = None  # why the last swap failed
    log_rows_shown: int = -1
    # Adapting the active model to the log's corrections (in a background thread).
    adapting: Future | None = None
    adapt_status: str = ""

    def start(self, model: str) -> None:
        """Build the Predictor of ``model`` in the background (the app's first model, or another
        when that one could not be loaded); :meth:`finish_start` takes it when it is ready."""
        from concurrent.futures import ThreadPoolExecutor

        def build():
            predictor = Predictor(model, directory=self.directory)
            predictor.warm_up()
            return predictor

        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-start")
        self.start_model, self.start_error = model, None
        self.starting = executor.submit(build)
        executor.shutdown(wait=False)

    def finish_start(self) -> bool:
        """Take the Predictor once it is built: True on the call that makes it the app's."""
        if self.predictor is not None or self.starting is None or not self.starting.done():
            return False
        future, self.starting = self.starting, None
        try:
            self.predictor = future.result()
        except Exception as exc:  # a model that cannot be loaded is a message in the window, not a crash
            self.start_error = f"could not load model {self.start_model!r}: {exc}; choose another in the Models tab"
            return False
        return True

    def loading_message(self) -> str:
        """What the panels say while there is no model to read with."""
        if self.start_error:
            return self.start_error
        return f"loading {self.start_model}..."

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

"""The camera loop: frames from a source read in a background thread, off any UI's render loop.

The loop grabs a frame, reads its digits with the Predictor, smooths the labels over time
(:class:`~workbench.live.tracking.DigitTracker`) and publishes the newest result; a UI only ever
takes :meth:`CameraLoop.latest`, so it never waits for the camera or the model. Each digit is
logged once per label it settles on (a digit held in front of the camera for ten seconds is one
record, not three hundred).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from workbench.live.log import LogError, PredictionLog
from workbench.live.predictor import Predictor
from workbench.live.reading import Reading
from workbench.live.sources import Source, open_source
from workbench.live.tracking import DigitTracker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CameraState:
    """What the camera loop last produced: the frame, its (smoothed) reading, frames per second
    of the loop, and a status line for the UI (``running``, ``paused``, ``ended``, an error)."""

    frame: np.ndarray | None
    reading: Reading | None
    fps: float
    status: str
    frame_number: int


def annotate(frame: np.ndarray, reading: Reading) -> np.ndarray:
    """A copy of ``frame`` with each digit's box, label and confidence drawn on it (unsure
    digits in orange with ``?``; what the digit gate refused, not at all) and the number read
    at the top."""
    out = frame.copy()
    scale = max(out.shape[:2]) / 640
    for digit in reading.digits:
        if digit.refused:
            continue
        x, y, w, h = digit.box
        colour = (60, 200, 60) if digit.label is not None else (0, 160, 255)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, max(1, round(2 * scale)))
        cv2.putText(out, f"{digit.text} {digit.confidence:.0%}", (x, max(12, y - 6)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.55 * scale, colour, max(1, round(2 * scale)), cv2.LINE_AA)
    if reading.text:
        cv2.putText(out, reading.text, (10, round(32 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 1.0 * scale,
                    (255, 255, 255), max(1, round(3 * scale)), cv2.LINE_AA)
    return out


class CameraLoop:
    """Reads a source in a background thread and keeps the newest :class:`CameraState`.

    Parameters
    ----------
    source : Source or str
        A frame source or a spec for :func:`~workbench.live.sources.open_source`.
    predictor : Predictor
        Reads each frame (and may be swapped to another model while the loop runs).
    log : PredictionLog, optional
        Where settled digits are logged (source ``camera``).
    max_fps : float, default=30
        The loop sleeps to stay at or below this rate (a video file plays at about real time).
    """

    def __init__(self, source: Source | str, predictor: Predictor, log: PredictionLog | None = None,
                 *, max_fps: float = 30):
        self.source = open_source(source) if isinstance(source, str) else source
        self.predictor = predictor
        self.log = log
        self.max_fps = max_fps
        self.max_backoff = 10.0
        self.log_error: str | None = None
        self.frame_errors = 0  # frames that could not be read (each reported in the status)
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._state = CameraState(None, None, 0.0, "starting", 0)
        self._logged: dict[tuple, int | None] = {}
        self._thread = threading.Thread(target=self._run, name="camera-loop", daemon=True)

    def start(self) -> CameraLoop:
        self._thread.start()
        return self

    def latest(self) -> CameraState:
        """The newest state. If the loop's thread has died, whatever its last status said, the
        status says that it stopped (a UI must never show "running" over a dead loop)."""
        with self._lock:
            state = self._state
        if self._thread.ident is not None and not self._thread.is_alive() and not self._stop.is_set() \
                and not state.status.startswith(("camera loop stopped", f"{self.source.name} ended", "camera error")):
            state = CameraState(**{**state.__dict__, "status": f"camera loop stopped ({state.status})"})
        return state

    def _publish(self, **changes) -> None:
        with self._lock:
            self._state = CameraState(**{**self._state.__dict__, **changes})

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # the loop itself failed (not one frame): say so, never "running"
            log.exception("the camera loop stopped")
            self._publish(status=f"camera loop stopped: {type(exc).__name__}: {exc}")

    def _loop(self) -> None:
        tracker = None
        stamps: deque[float] = deque(maxlen=30)
        number = 0
        while not self._stop.is_set():
            if self.paused.is_set():
                self._publish(status="paused")
                self._stop.wait(0.05)
                continue
            started = time.perf_counter()
            try:
                frame, problem = self.source.read(), "no frame"
            except Exception as exc:  # a camera unplugged mid-stream, a broken file
                frame, problem = None, str(exc)
            if frame is None:
                if self.source.reconnectable and self._reconnect(problem):
                    tracker = None
                    continue
                if problem == "no frame":
                    self._publish(status=f"{self.source.name} ended")
                else:
                    self._publish(status=f"camera error: {problem}")
                return
            number += 1
            try:
                active = self.predictor.active
                if tracker is None or tracker.classes is not active.pipeline.classes_:
                    tracker = DigitTracker(active.pipeline.classes_, threshold=self.predictor.threshold)
                reading = tracker.update(self.predictor.read_frame(frame))
                self._log_settled(reading)
            except Exception as exc:  # one bad frame (odd size, a model error): report it, go on
                self.frame_errors += 1
                self._publish(frame=frame, reading=None, frame_number=number,
                              status=f"running; frame {number} could not be read: {type(exc).__name__}: {exc}")
                self._stop.wait(max(0.0, 1 / self.max_fps - (time.perf_counter() - started)))
                continue
            stamps.append(time.perf_counter())
            fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
            status = "running" if self.log_error is None else f"running, not logging: {self.log_error}"
            self._publish(frame=frame, reading=reading, fps=fps, status=status, frame_number=number)
            self._stop.wait(max(0.0, 1 / self.max_fps - (time.perf_counter() - started)))

    def _reconnect(self, problem: str) -> bool:
        """Retry a lost device with exponential backoff (0.5 s doubling up to 10 s), saying so
        in the status, until it works again (True) or the loop is stopped (False)."""
        delay, attempt = 0.5, 1
        while True:
            self._publish(status=f"{self.source.name} lost ({problem}); retrying in {delay:g} s (attempt {attempt})")
            if self._stop.wait(delay):
                return False
            try:
                if self.source.reopen():
                    self._publish(status="running")
                    return True
            except Exception as exc:  # a driver error is one more failed attempt
                problem = str(exc)
            delay, attempt = min(2 * delay, self.max_backoff), attempt + 1

    def _log_settled(self, reading: Reading) -> None:
        """Log each digit when its smoothed label first appears or changes (keyed by its box,
        rounded to a coarse grid so that a digit wobbling in place keeps its key)."""
        if self.log is None:
            return
        seen = {}
        for digit in reading.digits:
            key = tuple(round(v / 40) for v in digit.box[:2])
            seen[key] = digit.label
            if digit.label is not None and self._logged.get(key) != digit.label:
                try:
                    self.log.add("camera", reading.model, reading.model_sha256, digit.label, digit.confidence,
                                 digit.probabilities, 1000 * reading.seconds, digit.image, origin=self.source.name)
                except LogError as exc:  # a full disk, a log made read-only: keep reading, say why
                    self.log, self.log_error = None, str(exc)
                    return
        self._logged = seen

    def snapshot(self, directory: str | Path) -> Path | None:
        """Save the newest frame (as PNG, annotated copy next to it) and its reading (JSON);
        returns the PNG's path, or None before the first frame."""
        import json

        state = self.latest()
        if state.frame is None:
            return None
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / time.strftime("snapshot-%Y%m%d-%H%M%S")
        cv2.imwrite(f"{stem}.png", state.frame)
        if state.reading is None:  # a frame that could not be read: the status says why
            Path(f"{stem}.json").write_text(json.dumps({"error": state.status}))
            return Path(f"{stem}.png")
        cv2.imwrite(f"{stem}-read.png", annotate(state.frame, state.reading))
        Path(f"{stem}.json").write_text(json.dumps({"model": state.reading.model, **state.reading.to_json()}))
        return Path(f"{stem}.png")

    def stop(self) -> None:
        """Stop the thread and release the source."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.source.close()


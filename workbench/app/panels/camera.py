"""Camera panel: live frames with a box, label and confidence over each digit, the number
read, frames per second; source choice, pause and snapshot."""

from __future__ import annotations

import time

import cv2
import dearpygui.dearpygui as dpg
import numpy as np

from workbench.app import tags
from workbench.app.state import CAMERA_SIZE, AppState
from workbench.live.camera import CameraLoop, annotate
from workbench.live.sources import DemoSource, SourceError, open_source


def add_textures() -> None:
    h, w = CAMERA_SIZE
    dpg.add_raw_texture(w, h, np.zeros(h * w * 4, np.float32), format=dpg.mvFormat_Float_rgba, tag=tags.CAMERA_TEXTURE)


def build(state: AppState, source: str | None) -> None:
    h, w = CAMERA_SIZE
    with dpg.group(horizontal=True):
        dpg.add_text("Camera source:")
        dpg.add_combo(["demo", "0", "1"], default_value=source or "demo", tag=tags.CAMERA_SOURCE, width=260)
        dpg.add_button(label="Open", tag=tags.CAMERA_OPEN,
                       callback=lambda: open_camera(state, dpg.get_value(tags.CAMERA_SOURCE)))
        dpg.add_button(label="Pause", tag=tags.CAMERA_PAUSE, callback=lambda: toggle_pause(state))
        dpg.add_button(label="Snapshot", tag=tags.CAMERA_SNAPSHOT, callback=lambda: snapshot(state))
    dpg.add_text("", tag=tags.CAMERA_STATUS)
    dpg.add_text("", tag=tags.CAMERA_SNAPSHOT_STATUS)  # stays until the next snapshot
    dpg.add_text("", tag=tags.CAMERA_READING)
    dpg.add_image(tags.CAMERA_TEXTURE, width=w, height=h, tag=tags.CAMERA_IMAGE)


def open_camera(state: AppState, spec: str) -> None:
    """Switch to another source; a source that cannot be opened leaves a message, no crash.
    Before the model is ready, the source is opened (or refused) at once and read once it is."""
    close(state)
    state.camera_frame_shown = -1
    try:
        source = open_source(spec.strip())
    except SourceError as exc:
        state.camera_error = str(exc)
        return
    state.camera_error = None
    state.camera_waiting = source
    start_waiting(state)


def start_waiting(state: AppState) -> None:
    """Start reading the source opened while the model was loading, once it is ready."""
    if state.camera_waiting is not None and state.predictor is not None:
        source, state.camera_waiting = state.camera_waiting, None
        # The demo's page is not the user's handwriting: it stays out of the log adapt learns from.
        log = None if isinstance(source, DemoSource) else state.log
        state.camera = CameraLoop(source, state.predictor, log).start()


def toggle_pause(state: AppState) -> None:
    if state.camera is None:
        return
    if state.camera.paused.is_set():
        state.camera.paused.clear()
        dpg.configure_item(tags.CAMERA_PAUSE, label="Pause")
    else:
        state.camera.paused.set()
        dpg.configure_item(tags.CAMERA_PAUSE, label="Resume")


def snapshot(state: AppState) -> None:
    if state.camera is not None:
        path = state.camera.snapshot(state.snapshot_dir)
        said = f"snapshot saved at {time.strftime('%H:%M:%S')}: {path}" if path is not None else \
            "no frame to save yet"
        dpg.set_value(tags.CAMERA_SNAPSHOT_STATUS, said)


def close(state: AppState) -> None:
    if state.camera is not None:
        state.camera.stop()
        state.camera = None
    if state.camera_waiting is not None:
        state.camera_waiting.close()
        state.camera_waiting = None


def to_texture(frame: np.ndarray) -> np.ndarray:
    """A BGR frame of any size, letterboxed into the camera view, as flat float RGBA."""
    h, w = CAMERA_SIZE
    scale = min(w / frame.shape[1], h / frame.shape[0])
    if scale != 1:
        frame = cv2.resize(frame, (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    view = np.zeros((h, w, 3), np.uint8)
    top, left = (h - frame.shape[0]) // 2, (w - frame.shape[1]) // 2
    view[top : top + frame.shape[0], left : left + frame.shape[1]] = frame
    rgba = cv2.cvtColor(view, cv2.COLOR_BGR2RGBA)
    return rgba.astype(np.float32).ravel() * np.float32(1 / 255)


def update(state: AppState) -> None:
    """Show the camera loop's newest frame (only when there is a new one)."""
    if state.camera is None:
        waiting = state.camera_waiting
        dpg.set_value(tags.CAMERA_STATUS, state.camera_error or (
            f"{waiting.name}: read as soon as the model is ready ({state.loading_message()})" if waiting
            else "no camera source open"))
        return
    latest = state.camera.latest()
    reading = latest.reading
    status = f"{state.camera.source.name}: {latest.status}, {latest.fps:.0f} frames/s"
    if state.camera.log is None:
        status += ", not logged"
    if reading is not None:
        status += f", model {reading.model}"
    dpg.set_value(tags.CAMERA_STATUS, status)
    if latest.frame is None or latest.frame_number == state.camera_frame_shown:
        return
    state.camera_frame_shown = latest.frame_number
    if reading is None:  # this frame could not be read (the status says why)
        dpg.set_value(tags.CAMERA_TEXTURE, to_texture(latest.frame))
        dpg.set_value(tags.CAMERA_READING, "read: (this frame could not be read)")
        return
    dpg.set_value(tags.CAMERA_TEXTURE, to_texture(annotate(latest.frame, reading)))
    dpg.set_value(tags.CAMERA_READING, f"read: {reading.text or '(no digits)'}")

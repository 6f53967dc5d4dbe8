"""``workbench app``: one window with the draw, camera, model and log panels.

Runs its own render loop on the main thread: each frame polls the mouse for the draw panel,
shows the camera loop's newest frame (capture and inference run in a background thread),
refreshes the model and log panels, then renders. Everything the app decides is made by
:mod:`workbench.live`; these modules only show it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from workbench.app import tags

NO_DISPLAY = (
    "workbench app needs a graphical display, and none was found (DISPLAY is not set or its X server "
    "does not answer). On a desktop, run it from a terminal of that desktop; on a server, run it under "
    "a virtual display:\n    xvfb-run -a -s '-screen 0 1280x800x24' workbench app --camera demo"
)


def display_available() -> bool:
    """Whether an X display answers (DearPyGui aborts the process, uncatchably, without one)."""
    if sys.platform in ("win32", "darwin"):
        return True
    display = os.environ.get("DISPLAY", "")
    if not display and not os.environ.get("WAYLAND_DISPLAY"):
        return False
    if display.startswith(":"):  # a local X server: its socket must exist
        number = display[1:].split(".")[0]
        return Path(f"/tmp/.X11-unix/X{number}").exists()
    return True


def _write_probe(path: Path, state, rendered: int) -> None:
    """For tests and scripts driving the app from outside (``WORKBENCH_APP_PROBE=file.json``):
    where the interactive items are on screen and what the panels show, written atomically."""
    import json

    import dearpygui.dearpygui as dpg

    items = [tags.CANVAS, tags.COMPARE, tags.CAMERA_OPEN, tags.LOG_TAB, tags.ADAPT, tags.SALIENCY_TOGGLE]
    items += [f"{tags.TEACH_PREFIX}{digit}" for digit in range(10)]
    items += [tags.MODEL_USE_PREFIX + m["name"] for m in state.models]
    rects = {}
    for item in items:
        if dpg.does_item_exist(item):
            (x0, y0), (x1, y1) = dpg.get_item_rect_min(item), dpg.get_item_rect_max(item)
            rects[item] = [x0, y0, x1, y1]
    camera = state.camera.latest() if state.camera is not None else None
    probe = {
        "frame": rendered,
        "rects": rects,
        "model": state.predictor.name if state.predictor is not None else None,
        "model_ready": state.predictor is not None,
        "model_status": dpg.get_value(tags.MODEL_STATUS),
        "draw_result": dpg.get_value(tags.DRAW_RESULT),
        "draw_text": state.draw_reading.text if state.draw_reading is not None else "",
        "top_classes": dpg.get_value(tags.TOP_CLASSES),
        "teach_status": dpg.get_value(tags.TEACH_STATUS),
        "adapt_status": dpg.get_value(tags.ADAPT_STATUS) if dpg.does_item_exist(tags.ADAPT_STATUS) else None,
        "camera_status": dpg.get_value(tags.CAMERA_STATUS),
        "camera_text": camera.reading.text if camera is not None and camera.reading is not None else None,
        "camera_frames": camera.frame_number if camera is not None else 0,
        "camera_truth": getattr(state.camera.source, "labels", None) if state.camera is not None else None,
        "log_records": len(state.log) if state.log is not None else None,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(probe))
    tmp.replace(path)


TEXT_FONT_SIZE = 15  # pixels: every label (DearPyGui's own bitmap font is 13 and thin)
ANSWER_FONT_SIZE = 28  # pixels: the draw panel's answer and the camera's number


def _fonts():
    """DejaVu Sans at :data:`TEXT_FONT_SIZE` and DejaVu Sans Bold at :data:`ANSWER_FONT_SIZE`
    (the copies matplotlib ships, found without importing it), registered with DearPyGui;
    ``(None, None)`` when they are not there (DearPyGui's own font then)."""
    import importlib.util

    import dearpygui.dearpygui as dpg

    spec = importlib.util.find_spec("matplotlib")
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" if spec else None
    if folder is None or not (folder / "DejaVuSans.ttf").is_file() or not (folder / "DejaVuSans-Bold.ttf").is_file():
        return None, None
    with dpg.font_registry():
        return (dpg.add_font(str(folder / "DejaVuSans.ttf"), TEXT_FONT_SIZE),
                dpg.add_font(str(folder / "DejaVuSans-Bold.ttf"), ANSWER_FONT_SIZE))


WINDOW = (1280, 800)  # the smallest the layout is made for; larger screens get up to MAX_WINDOW
MAX_WINDOW = (1680, 1050)


def window_size() -> tuple[tuple[int, int], object]:
    """The window's size: most of the X screen (read through Xlib), within :data:`WINDOW` and
    :data:`MAX_WINDOW`; :data:`WINDOW` where the screen cannot be asked. Also a function that
    closes the connection it opened: call it once the window is shown, not before (an X server
    without other clients resets when the last one leaves, and the window's own connection,
    made meanwhile, would fail: measured under Xvfb, two app tests in six)."""
    import ctypes
    import ctypes.util

    try:
        xlib = ctypes.CDLL(ctypes.util.find_library("X11") or "libX11.so.6")
        xlib.XOpenDisplay.restype = ctypes.c_void_p
        xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        xlib.XDefaultScreen.argtypes = xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
        xlib.XDisplayWidth.argtypes = xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
        display = xlib.XOpenDisplay(None)
    except (OSError, AttributeError):
        return WINDOW, lambda: None
    if not display:
        return WINDOW, lambda: None
    screen = xlib.XDefaultScreen(display)
    width, height = xlib.XDisplayWidth(display, screen), xlib.XDisplayHeight(display, screen)
    # leave room for a desktop's panels and the window's title bar
    size = (max(min(width, WINDOW[0]), min(int(0.94 * width), MAX_WINDOW[0])),
            max(min(height, WINDOW[1]), min(int(0.9 * height), MAX_WINDOW[1])))
    return size, lambda: xlib.XCloseDisplay(display)


def run(model: str = "cnn", camera: str | None = "demo", log_path: str | None = None,
        *, frames: int | None = None, screenshot: str | None = None) -> int:
    """Open the app and run until its window is closed (or for ``frames`` frames once the model
    is ready, then save ``screenshot`` if given: how the README's picture and the tests'
    artifacts are made). The window opens at once; the model loads behind it."""
    if not display_available():
        print(f"workbench: error: {NO_DISPLAY}", file=sys.stderr)
        return 2
    import dearpygui.dearpygui as dpg

    from workbench.app.panels import camera as camera_panel
    from workbench.app.panels import draw as draw_panel
    from workbench.app.panels import log as log_panel
    from workbench.app.panels import models as model_panel
    from workbench.app.state import AppState
    from workbench.live.log import LogError, PredictionLog
    from workbench.store import resolve_model

    resolve_model(model)  # a model that is not there is said now, in one line, not in the window
    try:
        prediction_log, log_error = PredictionLog(log_path), None
    except LogError as exc:
        prediction_log, log_error = None, str(exc)
    state = AppState(log=prediction_log, log_error=log_error)
    state.start(model)  # the window opens at once; the model loads behind it

    dpg.create_context()
    try:
        with dpg.texture_registry(tag=tags.TEXTURES):
            draw_panel.add_textures()
            camera_panel.add_textures()
        with dpg.window(tag=tags.WINDOW):
            with dpg.group(horizontal=True):
                with dpg.child_window(width=600, height=-1, border=False):
                    with dpg.collapsing_header(label="Draw", default_open=True):
                        draw_panel.build(state)
                    with dpg.tab_bar():
                        with dpg.tab(label="Models"):
                            model_panel.build(state)
                        with dpg.tab(label="Log", tag=tags.LOG_TAB):
                            log_panel.build(state)
                with dpg.child_window(width=-1, height=-1, border=False):
                    with dpg.collapsing_header(label="Camera", default_open=True):
                        camera_panel.build(state, camera)
        text_font, answer_font = _fonts()
        if text_font is not None:  # the answers read at a glance, larger than the labels around them
            dpg.bind_font(text_font)
            dpg.bind_item_font(tags.DRAW_RESULT, answer_font)
            dpg.bind_item_font(tags.CAMERA_READING, answer_font)
        (width, height), close_screen_query = window_size()
        dpg.create_viewport(title=tags.VIEWPORT_TITLE, width=width, height=height, x_pos=0, y_pos=0)
        dpg.setup_dearpygui()
        dpg.show_viewport()
        close_screen_query()
        dpg.set_primary_window(tags.WINDOW, True)
        if camera:
            camera_panel.open_camera(state, camera)
        draw_panel.clear(state)
        rendered = ready = 0  # frames rendered; of them, with the model ready (or failed to load)
        probe = Path(os.environ["WORKBENCH_APP_PROBE"]) if os.environ.get("WORKBENCH_APP_PROBE") else None
        while dpg.is_dearpygui_running():
            if state.finish_start():  # the model is ready: open the camera, read what was drawn meanwhile
                camera_panel.start_waiting(state)
                model_panel.refresh(state)
                draw_panel.read_again(state)
            if probe is not None and rendered % 5 == 0:
                _write_probe(probe, state, rendered)
                if probe.with_suffix(".quit").exists():
                    break
            draw_panel.update(state)
            camera_panel.update(state)
            model_panel.update(state)
            log_panel.update(state)
            if frames is not None and ready == frames and screenshot:
                dpg.output_frame_buffer(file=screenshot)  # written during the next frame
            if frames is not None and ready > frames:
                break
            dpg.render_dearpygui_frame()
            rendered += 1
            ready += state.predictor is not None or state.start_error is not None
    finally:
        for work in (state.adapting, state.starting):  # a process that exits while XLA runs in a thread aborts
            if work is not None:
                work.exception(timeout=600)
        state.finish_start()
        camera_panel.close(state)
        state.catalogue.close()
        if state.predictor is not None:
            state.predictor.close()
        if prediction_log is not None:
            prediction_log.close()
        dpg.destroy_context()
    return 0

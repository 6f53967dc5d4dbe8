"""Draw panel: a mouse canvas read live, the 28x28 image the model sees, ten probability bars,
the top three classes, the strokes the answer rests on (occlusion saliency, on request), and
"that was a ..." buttons that store the right label of the drawing in the prediction log."""

from __future__ import annotations

import cv2
import dearpygui.dearpygui as dpg
import numpy as np

from workbench.app import tags
from workbench.app.state import CANVAS_SIZE, AppState
from workbench.live.log import LogError

PREVIEW_SIDE = 140


def build(state: AppState) -> None:
    with dpg.group(horizontal=True):
        with dpg.group():
            dpg.add_text("Draw a digit")
            with dpg.drawlist(width=CANVAS_SIZE, height=CANVAS_SIZE, tag=tags.CANVAS):
                dpg.draw_rectangle((0, 0), (CANVAS_SIZE, CANVAS_SIZE), fill=(0, 0, 0), color=(90, 90, 90),
                                   tag=tags.CANVAS_BACKGROUND)
                dpg.add_draw_layer(tag=tags.STROKES_LAYER)
            with dpg.group(horizontal=True):
                dpg.add_button(label="Clear", tag=tags.CLEAR, callback=lambda: clear(state))
                dpg.add_button(label="Undo", tag=tags.UNDO, callback=lambda: undo(state))
                dpg.add_slider_int(label="brush", tag=tags.BRUSH, default_value=state.brush, min_value=2,
                                   max_value=60, width=120, callback=lambda _, value: setattr(state, "brush", value))
        with dpg.group():
            dpg.add_text("", tag=tags.DRAW_RESULT)
            dpg.add_text("\n", tag=tags.TOP_CLASSES)
            with dpg.group(horizontal=True):
                with dpg.group():
                    dpg.add_text("what the model sees:")
                    dpg.add_image(tags.PREVIEW_TEXTURE, width=PREVIEW_SIDE, height=PREVIEW_SIDE, tag=tags.PREVIEW)
                with dpg.group():
                    dpg.add_checkbox(label="show why", tag=tags.SALIENCY_TOGGLE, default_value=state.show_saliency,
                                     callback=lambda _, value: _toggle_saliency(state, value))
                    with dpg.tooltip(tags.SALIENCY_TOGGLE):
                        dpg.add_text("the strokes the answer rests on (occlusion saliency: red, covering it\n"
                                     "lowers the answer's probability most)")
                    dpg.add_image(tags.SALIENCY_TEXTURE, width=PREVIEW_SIDE, height=PREVIEW_SIDE, tag=tags.SALIENCY,
                                  show=state.show_saliency)
            for digit, bar in enumerate(tags.PROBABILITY_BARS):
                dpg.add_progress_bar(default_value=0.0, overlay=f"{digit}", width=PREVIEW_SIDE, height=14, tag=bar)
            dpg.add_text("That was a:")
            with dpg.group(horizontal=True):
                for digit in range(10):
                    dpg.add_button(label=str(digit), tag=f"{tags.TEACH_PREFIX}{digit}", width=22, user_data=digit,
                                   callback=lambda sender, app_data, digit: teach(state, digit))
            dpg.add_text("", tag=tags.TEACH_STATUS, wrap=300)


def add_textures() -> None:
    black = np.tile(np.array([0, 0, 0, 1], np.float32), 28 * 28)  # opaque: the canvas's black
    dpg.add_dynamic_texture(28, 28, black, tag=tags.PREVIEW_TEXTURE)
    dpg.add_dynamic_texture(PREVIEW_SIDE, PREVIEW_SIDE, np.zeros(PREVIEW_SIDE * PREVIEW_SIDE * 4, np.float32),
                            tag=tags.SALIENCY_TEXTURE)


def teach(state: AppState, digit: int) -> None:
    """Store ``digit`` as the right label of the last drawing read (its log record)."""
    if state.log is None:
        message = f"no prediction log to teach with: {state.log_error}"
    elif state.draw_record is None:
        message = "draw a digit first"
    else:
        try:
            state.log.correct(state.draw_record, digit)
            given, confirmed = state.log.count_corrections(), state.log.count_confirmations()
            said = "confirmed" if state.draw_reading and state.draw_reading.text == str(digit) else "corrected"
            message = (f"record {state.draw_record} {said} as a {digit}: {given - confirmed} "
                       f"correction{'s' * (given - confirmed != 1)} and {confirmed} confirmation"
                       f"{'s' * (confirmed != 1)} in the log (Log tab: adapt the model to them)")
        except (KeyError, ValueError, LogError) as exc:  # no such record; a damaged log
            message = str(exc.args[0] if exc.args else exc)
    dpg.set_value(tags.TEACH_STATUS, message)
    state.log_rows_shown = -1


def _toggle_saliency(state: AppState, value: bool) -> None:
    state.show_saliency = bool(value)
    dpg.configure_item(tags.SALIENCY, show=state.show_saliency)
    _show_saliency(state)


def _show_saliency(state: AppState) -> None:
    """The occlusion map of the current answer over what the model saw (when asked for)."""
    if not state.show_saliency:
        return
    from workbench.explain import heat, saliency

    rgb = np.zeros((PREVIEW_SIDE, PREVIEW_SIDE, 3), np.uint8)
    reading = state.draw_reading
    if reading is not None and reading.digits:
        saliency_map, seen = saliency(state.predictor.active.pipeline, reading.digits[0].image)
        rgb = heat(seen, saliency_map, PREVIEW_SIDE)
    rgba = np.concatenate([rgb.astype(np.float32) / 255, np.ones((PREVIEW_SIDE, PREVIEW_SIDE, 1), np.float32)], 2)
    dpg.set_value(tags.SALIENCY_TEXTURE, rgba.ravel())


def clear(state: AppState) -> None:
    state.strokes.clear()
    _redraw(state)
    _read(state, log=False)


def undo(state: AppState) -> None:
    if state.strokes:
        state.strokes.pop()
    _redraw(state)
    _read(state, log=bool(state.strokes))


def update(state: AppState) -> None:
    """Follow the mouse: a press on the canvas starts a stroke, moves extend it (the reading
    updates live), the release ends it and logs the reading."""
    down = dpg.is_mouse_button_down(dpg.mvMouseButton_Left)
    if down and not state.drawing and dpg.is_item_hovered(tags.CANVAS):
        state.drawing = True
        state.strokes.append((state.brush, []))
    if state.drawing and down:
        x, y = dpg.get_drawing_mouse_pos()
        point = (int(np.clip(x, 0, CANVAS_SIZE - 1)), int(np.clip(y, 0, CANVAS_SIZE - 1)))
        stroke = state.strokes[-1][1]
        if not stroke or stroke[-1] != point:
            stroke.append(point)
            _redraw(state)
            _read(state, log=False)
    elif state.drawing:  # released
        state.drawing = False
        _read(state, log=True)


def _redraw(state: AppState) -> None:
    dpg.delete_item(tags.STROKES_LAYER, children_only=True)
    for brush, stroke in state.strokes:
        if len(stroke) == 1:
            dpg.draw_circle(stroke[0], brush / 2, fill=(255, 255, 255), color=(255, 255, 255),
                            parent=tags.STROKES_LAYER)
        elif stroke:
            dpg.draw_polyline(stroke, color=(255, 255, 255), thickness=brush, parent=tags.STROKES_LAYER)
            for point in (stroke[0], stroke[-1]):  # round caps, as the canvas image has
                dpg.draw_circle(point, brush / 2, fill=(255, 255, 255), color=(255, 255, 255),
                                parent=tags.STROKES_LAYER)


def read_again(state: AppState) -> None:
    """Read the drawing as it is now (one made while the model was loading, once it is ready)."""
    _read(state, log=bool(state.strokes) and not state.drawing)


def _read(state: AppState, *, log: bool) -> None:
    """Read the canvas with the active model; show the result; log it when a stroke ends."""
    if state.predictor is None:  # the model is still loading: the drawing is read when it is ready
        state.draw_reading = None
        waiting = "your drawing is read as soon as it is ready" if state.strokes else ""
        dpg.set_value(tags.DRAW_RESULT, "loading..." if not state.start_error else "no model")
        dpg.set_value(tags.TOP_CLASSES, f"{state.loading_message()}\n{waiting}")
        return
    reading = state.predictor.read_canvas(state.canvas_image())
    state.draw_reading = reading
    preview = np.zeros((28, 28), np.float32)
    probabilities = np.zeros(10)
    if reading.digits:
        digit = reading.digits[0]
        preview = digit.image.astype(np.float32) / 255
        classes = list(state.predictor.active.pipeline.classes_)
        for cls, p in zip(classes, digit.probabilities, strict=True):
            if 0 <= int(cls) <= 9:
                probabilities[int(cls)] = p
        best = classes[int(np.argmax(digit.probabilities))]
        # the answer large, on its own line (the panel is narrow); the rest small beneath it
        answer, aside = (("not a digit", f"the model would say {best}") if digit.refused
                         else (f"{digit.label}   {digit.confidence:.1%}", "") if digit.label is not None
                         else ("unsure", f"best {best} at {digit.confidence:.0%}"))
        dpg.set_value(tags.DRAW_RESULT, answer)
        from workbench.explain import top_classes

        top = ",  ".join(f"{label} {p:.1%}" for label, p in top_classes(digit.probabilities, classes))
        dpg.set_value(tags.TOP_CLASSES, (f"{aside};  " if aside else "") +
                      f"model {reading.model}, {1000 * reading.seconds:.1f} ms\ntop three: {top}")
        if log and state.log is not None:
            try:
                state.draw_record = state.log.add_reading(reading, "draw")[0]
            except LogError as exc:
                state.log_error = str(exc)
        if log:
            _show_saliency(state)
    else:
        dpg.set_value(tags.DRAW_RESULT, "nothing drawn")
        dpg.set_value(tags.TOP_CLASSES, "\n")  # two lines always: the buttons below never move
        state.draw_record = None
        _show_saliency(state)
    dpg.set_value(tags.PREVIEW_TEXTURE, cv2.cvtColor(preview, cv2.COLOR_GRAY2RGBA).ravel())
    for bar, p in zip(tags.PROBABILITY_BARS, probabilities, strict=True):
        dpg.set_value(bar, float(p))
        dpg.configure_item(bar, overlay=f"{tags.PROBABILITY_BARS.index(bar)}  {p:.0%}")

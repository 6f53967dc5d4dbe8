"""Model panel: the saved models with their metadata; swap the active one at runtime; compare
every model's answer for the current drawing."""

from __future__ import annotations

import dearpygui.dearpygui as dpg
import numpy as np

from workbench.app import tags
from workbench.app.state import AppState
from workbench.live.predictor import ActiveModel


def build(state: AppState) -> None:

    dpg.add_text("", tag=tags.MODEL_STATUS, wrap=590)
    with dpg.table(tag=tags.MODEL_TABLE, header_row=True, borders_innerH=True, borders_outerH=True,
                   borders_innerV=True, borders_outerV=True, policy=dpg.mvTable_SizingFixedFit):
        for label in ("model", "pipeline", "test accuracy", "1-image latency", "size", ""):
            dpg.add_table_column(label=label)
    dpg.add_button(label="Compare all models on the drawing", tag=tags.COMPARE, callback=lambda: compare(state))
    with dpg.table(tag=tags.COMPARE_TABLE, header_row=True, policy=dpg.mvTable_SizingFixedFit):
        for label in ("model", "answer", "confidence"):
            dpg.add_table_column(label=label)
    refresh(state)


def refresh(state: AppState) -> None:
    """List the saved models again (a model saved while the app runs, e.g. an adapted one,
    appears) and load the new ones in the background for "compare all"."""
    from workbench.store import list_models

    # yours and the shipped ones; a shipped model that one of yours stands in for is left out (its
    # name loads yours)
    state.models = [meta for meta in list_models(state.directory) if not meta.get("shadowed")]
    dpg.delete_item(tags.MODEL_TABLE, children_only=True, slot=1)
    for meta in state.models:
        name = meta["name"]
        with dpg.table_row(parent=tags.MODEL_TABLE):
            with dpg.tooltip(dpg.add_text(name if meta.get("source") != "yours" else f"{name} (yours)")):
                dpg.add_text(meta.get("description", "(no description)"), wrap=400)  # what it is, on hover
            if "error" in meta:  # listed, with why, but not usable
                dpg.add_text("unreadable")
                why = meta["error"].partition(f"{name}.json")[2].lstrip(": ") or meta["error"]
                with dpg.tooltip(dpg.add_text(why[:34] + ("..." if len(why) > 34 else ""))):
                    dpg.add_text(meta["error"], wrap=600)
                continue
            dpg.add_text(meta.get("pipeline", "?"))
            accuracy = meta.get("test", {}).get("accuracy")
            dpg.add_text(f"{accuracy:.2%}" if accuracy is not None else "-")
            dpg.add_text("loading...", tag=f"model_latency_{name}")  # in the background; then its latency
            dpg.add_text(_size(meta.get("file_bytes", 0)))
            # DearPyGui passes (sender, app_data, user_data): the name travels as user_data.
            dpg.add_button(label="use", tag=tags.MODEL_USE_PREFIX + name, user_data=name,
                           callback=lambda sender, app_data, name: use(state, name))

    if state.predictor is not None:  # the active model loads first; the others when it is ready
        state.catalogue.load(state.models, state.directory)


def _size(n_bytes: int) -> str:
    """A file size as people read it: 49 KB (logreg), 2.1 MB (cnn), 292 MB."""
    if n_bytes < 1e6:
        return f"{n_bytes / 1e3:.0f} KB"
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes < 1e8 else f"{n_bytes / 1e6:.0f} MB"


def use(state: AppState, name: str) -> None:
    """Swap the active model (in the background; the panels keep running)."""
    if state.predictor is None:  # no model yet: start with this one, or swap to it once the first is ready
        if state.starting is None:
            state.start(name)
        else:
            state.model_wanted = name
        return
    loaded = state.catalogue.get(name)
    state.pending_swap = state.predictor.swap(loaded if isinstance(loaded, ActiveModel) else name)


def compare(state: AppState) -> None:
    """Every loaded model's answer and confidence for the current drawing, side by side, each
    decided as the Predictor decides (the digit gate and the confidence threshold included)."""
    dpg.delete_item(tags.COMPARE_TABLE, children_only=True, slot=1)
    canvas = state.canvas_image()
    models, _ = state.catalogue.snapshot()
    for meta in state.models:
        name = meta["name"]
        model = models.get(name)
        if not state.strokes:
            answer, confidence = "nothing drawn", ""
        elif model is None or state.predictor is None:
            answer, confidence = "still loading", ""
        elif isinstance(model, str):
            answer, confidence = f"failed: {model[:60]}", ""
        else:
            reading = state.predictor.read_canvas(canvas, active=model)
            if not reading.digits:
                answer, confidence = "nothing drawn", ""
            else:
                digit = reading.digits[0]
                best = model.pipeline.classes_[int(np.argmax(digit.probabilities))]
                answer = (f"not a digit ({best}?)" if digit.refused else str(digit.label)
                          if digit.label is not None else f"unsure ({best}?)")
                confidence = f"{digit.confidence:.1%}"
        with dpg.table_row(parent=tags.COMPARE_TABLE):
            dpg.add_text(name)
            dpg.add_text(answer)
            dpg.add_text(confidence)


def update(state: AppState) -> None:
    if state.predictor is not None and state.model_wanted:
        name, state.model_wanted = state.model_wanted, None
        use(state, name)
    if state.models_stale:  # a model was saved (adapted) while the app runs: list it
        state.models_stale = False
        refresh(state)
    models, latency_ms = state.catalogue.snapshot()
    for name, ms in latency_ms.items():
        if dpg.does_item_exist(f"model_latency_{name}"):
            dpg.set_value(f"model_latency_{name}", f"{ms:.2f} ms")
    for name, model in models.items():
        if isinstance(model, str) and dpg.does_item_exist(f"model_latency_{name}"):
            dpg.set_value(f"model_latency_{name}", "failed to load")
    swap = state.pending_swap
    if swap is not None and swap.done():
        state.pending_swap = None
        state.model_message = None if swap.exception() is None else (
            f"{state.predictor.last_error}; still using {state.predictor.name}")
    if state.predictor is None:
        then = f" (then {state.model_wanted})" if state.model_wanted else ""
        dpg.set_value(tags.MODEL_STATUS, f"active model: {state.loading_message()}{then}")
        return
    text = f"active model: {state.predictor.name}"
    description = state.predictor.active.metadata.get("description")
    if description:
        text += f": {description}"
    if state.pending_swap is not None:
        text += " (loading another...)"
    if state.model_message:
        text += f"\n{state.model_message}"
    dpg.set_value(tags.MODEL_STATUS, text)

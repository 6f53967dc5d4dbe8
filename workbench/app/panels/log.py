"""Log panel: the latest predictions; mark one as wrong with the right digit; export the log;
adapt the active model to the corrections (in the background) and swap the adapted one in."""

from __future__ import annotations

import dearpygui.dearpygui as dpg
import pandas as pd

from workbench.app import tags
from workbench.app.state import AppState
from workbench.live.log import LogError

ROWS = 12
COLUMNS = ("id", "time", "source", "model", "label", "confidence", "corrected")


def build(state: AppState) -> None:
    where = state.log.path if state.log is not None else None
    dpg.add_text(f"log: {where}" if where else f"no log: {state.log_error}", tag=tags.LOG_STATUS)
    with dpg.group(horizontal=True):
        # the names before the inputs (ImGui puts a label after its input)
        dpg.add_text("record")
        dpg.add_input_int(tag=tags.LOG_RECORD, width=100, min_value=0, min_clamped=True)
        dpg.add_text("right digit")
        dpg.add_input_int(tag=tags.LOG_LABEL, width=100, min_value=0, max_value=9,
                          min_clamped=True, max_clamped=True)
        dpg.add_button(label="Mark wrong", tag=tags.LOG_CORRECT, callback=lambda: correct(state))
    with dpg.group(horizontal=True):
        dpg.add_button(label="Adapt the model to my corrections", tag=tags.ADAPT, callback=lambda: adapt(state))
        dpg.add_text("", tag=tags.ADAPT_STATUS, wrap=380)
    with dpg.group(horizontal=True):
        dpg.add_input_text(tag=tags.LOG_EXPORT_PATH, default_value="predictions.csv", width=220)
        dpg.add_button(label="Export (.csv or .parquet)", tag=tags.LOG_EXPORT, callback=lambda: export(state))
    with dpg.table(tag=tags.LOG_TABLE, header_row=True, policy=dpg.mvTable_SizingFixedFit, borders_innerH=True):
        for label in COLUMNS:
            dpg.add_table_column(label=label)


def correct(state: AppState) -> None:
    if state.log is None:
        return
    record, label = dpg.get_value(tags.LOG_RECORD), dpg.get_value(tags.LOG_LABEL)
    try:
        state.log.correct(record, label)
        dpg.set_value(tags.LOG_STATUS, f"record {record} corrected to {label}")
    except (KeyError, ValueError, LogError) as exc:  # no such record; not a digit; a damaged log
        dpg.set_value(tags.LOG_STATUS, str(exc.args[0] if exc.args else exc))
    state.log_rows_shown = -1


def adapt(state: AppState) -> None:
    """Adapt the active model to the log's corrections in a background thread (the app keeps
    running); the adapted model is saved beside it as ``<model>-adapted`` and made active.
    The original stays in the model list: choosing it again is the undo."""
    if state.log is None or (state.adapting is not None and not state.adapting.done()):
        return
    if state.predictor is None:
        state.adapt_status = f"no model to adapt yet: {state.loading_message()}"
        return
    from concurrent.futures import ThreadPoolExecutor

    from workbench.adapt import adapt_saved

    model, directory, log_path = state.predictor.name, state.predictor.directory, state.log.path

    def run():
        def status(text):
            state.adapt_status = text

        path, report = adapt_saved(model, log=log_path, directory=directory, status=status,
                                   command="workbench app: Adapt")
        held = report["held_out_accuracy"]
        mnist = report["mnist_test_accuracy"]
        state.adapt_status = (f"{path.stem}: your {held['held_out']} held-out digits "
                              f"{held['before']:.0%} -> {held['after']:.0%}, "
                              f"MNIST {mnist['before']:.2%} -> {mnist['after']:.2%}; now in use")
        state.pending_swap = state.predictor.swap(path.stem)
        return path

    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapt")
    state.adapt_status = f"adapting {model}..."
    state.adapting = executor.submit(run)
    executor.shutdown(wait=False)


def export(state: AppState) -> None:
    if state.log is None:
        return
    try:
        path = state.log.export(dpg.get_value(tags.LOG_EXPORT_PATH))
        dpg.set_value(tags.LOG_STATUS, f"exported {len(state.log)} records to {path.resolve()}")
    except Exception as exc:  # a bad suffix, a read-only folder
        dpg.set_value(tags.LOG_STATUS, f"export failed: {exc}")


def update(state: AppState) -> None:
    """Show how the adaptation goes; refresh the table when records were added or corrected."""
    if state.log is None:
        return
    if state.adapting is not None and state.adapting.done():
        error = state.adapting.exception()
        if error is not None:
            state.adapt_status = f"adapting failed: {error}"
        else:
            state.models_stale = True  # the model panel lists the adapted model
        state.adapting = None
    running = state.adapting is not None
    dpg.configure_item(tags.ADAPT, enabled=not running, label="Adapting..." if running else
                       "Adapt the model to my corrections")
    dpg.set_value(tags.ADAPT_STATUS, state.adapt_status)
    try:
        count = len(state.log)
        if count == state.log_rows_shown:
            return
        table = state.log.frame(limit=ROWS)
    except LogError as exc:  # damage met while reading: the app reads on without the log
        state.log, state.log_error = None, str(exc)
        dpg.set_value(tags.LOG_STATUS, f"no log: {exc}")
        return
    state.log_rows_shown = count
    dpg.delete_item(tags.LOG_TABLE, children_only=True, slot=1)
    for row in table.itertuples():
        with dpg.table_row(parent=tags.LOG_TABLE):
            dpg.add_text(str(row.id))
            dpg.add_text("-" if pd.isna(row.time) else row.time.tz_convert(None).strftime("%H:%M:%S"))
            dpg.add_text(row.source)
            dpg.add_text(row.model)
            dpg.add_text("?" if pd.isna(row.label) else str(row.label))
            dpg.add_text("-" if pd.isna(row.confidence) else f"{row.confidence:.1%}")
            dpg.add_text("" if pd.isna(row.corrected_label) else str(row.corrected_label))

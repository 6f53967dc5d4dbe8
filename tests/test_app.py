"""The DearPyGui app under Xvfb, driven with real X mouse events (xdotool), each in its own process.

The app runs as ``workbench app`` in a subprocess on a private Xvfb display; it reports where
its items are and what its panels show through ``WORKBENCH_APP_PROBE`` (a JSON file it
rewrites every few frames), and quits when ``<probe>.quit`` appears. Screenshots of each state
go to ``$WORKBENCH_TEST_ARTIFACTS`` (default ``tests/artifacts``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not (shutil.which("Xvfb") and shutil.which("xdotool")), reason="needs Xvfb and xdotool (see .ci/setup)"
)
ARTIFACTS = Path(os.environ.get("WORKBENCH_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))


class App:
    """A running ``workbench app`` and the means to drive it."""

    def __init__(self, display: str, tmp_path: Path, *args: str):
        self.display, self.probe_path = display, tmp_path / "probe.json"
        self.log_path = tmp_path / "log.sqlite"
        env = {**os.environ, "DISPLAY": display, "WORKBENCH_APP_PROBE": str(self.probe_path)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "app", "--log", str(self.log_path), *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def probe(self) -> dict:
        return json.loads(self.probe_path.read_text()) if self.probe_path.exists() else {}

    def wait_for(self, condition, timeout: float = 90, what: str = "") -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}): {self.process.stdout.read()}")
            probe = self.probe()
            if probe and condition(probe):
                return probe
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; last probe: {self.probe()}")

    def xdotool(self, *args) -> None:
        subprocess.run(["xdotool", *map(str, args)], check=True, env={**os.environ, "DISPLAY": self.display})

    def click(self, rect) -> None:
        x, y = (rect[0] + rect[2]) / 2, (rect[1] + rect[3]) / 2
        self.xdotool("mousemove", int(x), int(y))
        time.sleep(0.1)
        self.xdotool("click", 1)

    def stroke(self, points) -> None:
        """Drag the mouse through ``points`` (screen pixels), 40 ms per move as a hand would."""
        self.xdotool("mousemove", *points[0])
        time.sleep(0.1)
        self.xdotool("mousedown", 1)
        for point in points[1:]:
            time.sleep(0.04)
            self.xdotool("mousemove", *point)
        time.sleep(0.1)
        self.xdotool("mouseup", 1)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if shutil.which("import"):
            subprocess.run(["import", "-window", "root", str(path)], check=True,
                           env={**os.environ, "DISPLAY": self.display})
        return path

    def quit(self) -> int:
        self.probe_path.with_suffix(".quit").touch()
        return self.process.wait(timeout=60)

    def log_records(self) -> list[tuple]:
        with sqlite3.connect(self.log_path) as db:
            return db.execute("SELECT source, model, label FROM predictions ORDER BY id").fetchall()


def draw_one(app: App, rect) -> None:
    """A vertical stroke down the middle of the canvas: a "1"."""
    x0, y0, x1, y1 = rect
    cx = int((x0 + x1) / 2)
    app.stroke([(cx, int(y0 + 0.2 * (y1 - y0) + k * 0.06 * (y1 - y0))) for k in range(11)])


def draw_seven(app: App, rect) -> None:
    """A bar across the top, then a diagonal down to the bottom left: a "7"."""
    x0, y0, x1, y1 = rect
    w, h = x1 - x0, y1 - y0
    bar = [(int(x0 + w * (0.25 + 0.05 * k)), int(y0 + 0.2 * h)) for k in range(11)]
    leg = [(int(x0 + w * (0.75 - 0.03 * k)), int(y0 + h * (0.2 + 0.06 * k))) for k in range(1, 11)]
    app.stroke(bar + leg)


@pytest.fixture
def app_factory(display, tmp_path):
    apps = []

    def start(*args):
        app = App(display, tmp_path, *args)
        apps.append(app)
        return app

    yield start
    for app in apps:
        if app.process.poll() is None:
            app.process.kill()
            app.process.wait()


def test_drawing_with_the_mouse_is_read_and_logged(app_factory):
    app = app_factory("--model", "cnn", "--camera", "demo")
    probe = app.wait_for(lambda p: tags_ready(p), what="the window")
    app.screenshot("app-start")
    canvas = probe["rects"]["draw_canvas"]
    draw_seven(app, canvas)
    probe = app.wait_for(lambda p: p["log_records"] and any(r[0] == "draw" for r in app.log_records()),
                         what="a logged drawing")
    assert probe["draw_text"] == "7", probe["draw_result"]
    assert ("draw", "cnn", 7) in app.log_records()
    app.screenshot("app-drew-7")
    assert app.quit() == 0


def test_choosing_another_model_swaps_it_at_runtime(app_factory):
    app = app_factory("--model", "cnn", "--camera", "demo")
    probe = app.wait_for(lambda p: tags_ready(p) and "model_use_logreg" in p["rects"], what="the model table")
    app.click(probe["rects"]["model_use_logreg"])
    # the status line follows the swap on a later frame: wait for both
    probe = app.wait_for(lambda p: p["model"] == "logreg" and p["model_status"].startswith("active model: logreg"),
                         what="the swap")
    draw_one(app, probe["rects"]["draw_canvas"])
    app.wait_for(lambda p: any(r[0] == "draw" for r in app.log_records()), what="a logged drawing")
    draws = [r for r in app.log_records() if r[0] == "draw"]
    assert draws[-1][1] == "logreg" and draws[-1][2] == 1
    # The camera panel kept running and now reads with the new model too.
    app.wait_for(lambda p: "model logreg" in p["camera_status"], what="the camera on the new model")
    app.screenshot("app-swapped-to-logreg")
    assert app.quit() == 0


def test_demo_camera_is_read_in_the_camera_panel(app_factory):
    app = app_factory("--model", "cnn", "--camera", "demo")
    probe = app.wait_for(lambda p: p.get("camera_frames", 0) >= 20 and p["camera_text"], what="demo readings")
    assert "demo: running" in probe["camera_status"] and "frames/s" in probe["camera_status"]
    probe = app.wait_for(lambda p: p["camera_text"] == "".join(map(str, p["camera_truth"])), timeout=30,
                         what="the demo page read exactly")
    # the demo's page is not the user's handwriting: nothing of it goes into the log adapt learns from
    assert "not logged" in probe["camera_status"] and probe["log_records"] == 0 and app.log_records() == []
    app.screenshot("app-demo-camera")
    assert app.quit() == 0


def test_no_camera_is_a_message_and_drawing_still_works(app_factory):
    app = app_factory("--model", "cnn", "--camera", "7")
    probe = app.wait_for(lambda p: tags_ready(p), what="the window")
    assert "cannot open camera 7" in probe["camera_status"]
    draw_one(app, probe["rects"]["draw_canvas"])
    probe = app.wait_for(lambda p: p["draw_text"] != "", what="a reading")
    assert probe["draw_text"] == "1"
    app.screenshot("app-no-camera")
    assert app.quit() == 0


def test_without_a_display_the_app_says_how_to_run_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "workbench.cli", "app", "--log", str(tmp_path / "l.sqlite")],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "needs a graphical display" in result.stderr and "xvfb-run" in result.stderr


def tags_ready(probe: dict) -> bool:
    """The window is up and laid out (item positions are valid only after a few frames)."""
    return probe.get("frame", 0) >= 10 and "draw_canvas" in probe.get("rects", {})


def test_teach_then_adapt_swaps_in_the_adapted_model_and_keeps_the_original(app_factory, tmp_path, monkeypatch):
    """Teach the drawing's right label with the "that was a" buttons, press Adapt: the model is
    adapted in the background while the app keeps rendering, saved beside the original and
    swapped in; the original stays in the list (the undo)."""
    import numpy as np

    from workbench.live.log import PredictionLog
    from workbench.store import shipped_dir

    models = tmp_path / "models"
    models.mkdir()
    for path in shipped_dir().glob("logreg*"):  # a copy: adapting writes beside the model
        shutil.copy(path, models)
    monkeypatch.setenv("WORKBENCH_MODELS", str(models))
    app = app_factory("--model", "logreg", "--camera", "7")
    with PredictionLog(app.log_path) as log:  # earlier corrections of this user
        image = np.zeros((28, 28), np.uint8)
        image[4:24, 12:16] = 255
        for _ in range(8):
            log.correct(log.add("draw", "logreg", "0" * 64, 1, 0.9, np.full(10, 0.1), 1.0, image), 7)
    probe = app.wait_for(lambda p: tags_ready(p) and "log_adapt" in p["rects"], what="the window")
    draw_one(app, probe["rects"]["draw_canvas"])
    probe = app.wait_for(lambda p: p["log_records"] == 9, what="the drawing logged")
    assert "\ntop three: 1 " in probe["top_classes"]
    app.click(probe["rects"]["draw_teach_7"])
    probe = app.wait_for(lambda p: "9 corrections" in p["teach_status"], what="the correction stored")
    with sqlite3.connect(app.log_path) as db:
        assert db.execute("SELECT corrected_label FROM predictions ORDER BY id DESC LIMIT 1").fetchone() == (7,)
    # The status line under the buttons moves what is below it: click where the tab is once
    # the layout has settled (rects lag a frame behind), and again if the first click missed.
    for _ in range(3):
        settled = app.wait_for(lambda p, frame=probe["frame"]: p["frame"] >= frame + 10, what="a few frames")
        app.click(settled["rects"]["log_tab"])
        try:
            probe = app.wait_for(lambda p: p["rects"]["log_adapt"][2] > 0, timeout=10, what="the Log tab")
            break
        except AssertionError:
            probe = app.probe()
    app.click(probe["rects"]["log_adapt"])
    frame = app.wait_for(lambda p: "adapting" in (p["adapt_status"] or ""), what="adapting")["frame"]
    # The probe's status text is the one shown in the last frame; the active model is read live:
    # wait for both.
    probe = app.wait_for(lambda p: p["model"] == "logreg-adapted" and "now in use" in p["adapt_status"],
                         timeout=240, what="the adapted model in use")
    assert probe["frame"] > frame + 10  # the window kept rendering while it adapted
    probe = app.wait_for(lambda p: "model_use_logreg-adapted" in p["rects"], what="the new model listed")
    assert "model_use_logreg" in probe["rects"]  # the original stays, to go back to
    meta = json.loads((models / "logreg-adapted.json").read_text())
    assert meta["adapted_from"]["name"] == "logreg" and meta["adaptation"]["corrections"]["used"] == 9  # every one
    app.screenshot("app-adapted")
    assert app.quit() == 0

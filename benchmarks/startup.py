"""How long a person waits: each command from its start to its answer, as a whole process.

    .venv/bin/python benchmarks/startup.py [--runs 5] [--only predict,app]

Every row runs the installed ``workbench`` command (``.venv/bin/workbench``) in a fresh process,
``--runs`` times, and reports the median wall time, twice:

- cold: JAX's compilation cache empty (``WORKBENCH_XLA_CACHE`` set to a new empty folder for each
  run): the first run after install;
- warm: the cache filled by an earlier run: any later run.

Python's own files are in the OS page cache either way (the script cannot drop it). The inputs:
an MNIST test 7 drawn dark on white at 280x280 (``one.png``), 100 synthetic photos of pages of
2-6 digits at 640x480 (:func:`workbench.synth.render_page`). The app rows start
``workbench app --camera demo`` on a private Xvfb display, time its window until the canvas is
laid out (``WORKBENCH_APP_PROBE``), then draw a 7 with real mouse events (xdotool, 40 ms per
move, about 1 s in all, as a hand would) and time the answer. Results go to docs/startup.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def make_inputs(folder: Path) -> tuple[Path, list[Path]]:
    """``one.png`` (a 7) and 100 page photos, written once."""
    import cv2
    import numpy as np

    from workbench.data import load_mnist
    from workbench.synth import render_page

    X, y = load_mnist("test")
    one = folder / "one.png"
    cv2.imwrite(str(one), 255 - cv2.resize(X[0], (280, 280), interpolation=cv2.INTER_CUBIC))
    rng = np.random.default_rng(0)
    photos = []
    for k in range(100):
        picked = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        photos.append(folder / f"photo{k:03d}.png")
        cv2.imwrite(str(photos[-1]), render_page(X[picked], y[picked], rng).image)
    return one, photos


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - start


class Display:
    """A private Xvfb server (1280x800x24) for the app rows."""

    def __enter__(self) -> str:
        read, write = os.pipe()
        self.server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24",
                                        "-nolisten", "tcp"], pass_fds=[write], stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            return ":" + pipe.readline().strip()

    def __exit__(self, *exc) -> None:
        self.server.terminate()
        self.server.wait(timeout=10)


def app_run(display: str, env: dict, folder: Path) -> tuple[float, float]:
    """Seconds from launch to a laid-out canvas, and to the answer to a 7 drawn on it at once."""
    probe = folder / "probe.json"
    for stale in (probe, probe.with_suffix(".quit")):
        stale.unlink(missing_ok=True)
    env = {**env, "DISPLAY": display, "WORKBENCH_APP_PROBE": str(probe)}
    start = time.perf_counter()
    app = subprocess.Popen([WORKBENCH, "app", "--camera", "demo", "--log", str(folder / "app.sqlite")], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(condition, timeout=120):
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                data = json.loads(probe.read_text())
            except (OSError, ValueError):
                data = None
            if data and condition(data):
                return data
            if app.poll() is not None:
                raise RuntimeError(f"the app exited with {app.returncode}")
            time.sleep(0.02)
        raise RuntimeError("the app did not get there in time")

    def xdotool(*args):
        subprocess.run(["xdotool", *map(str, args)], env=env, check=True)

    try:
        data = wait(lambda d: (r := d["rects"].get("draw_canvas")) and r[2] > r[0] and d["frame"] >= 5)
        window = time.perf_counter() - start
        x0, y0, x1, y1 = data["rects"]["draw_canvas"]
        w, h = x1 - x0, y1 - y0
        points = [(x0 + w * (0.25 + 0.05 * k), y0 + 0.2 * h) for k in range(11)]
        points += [(x0 + w * (0.75 - 0.03 * k), y0 + h * (0.2 + 0.06 * k)) for k in range(1, 11)]
        xdotool("mousemove", int(points[0][0]), int(points[0][1]))
        xdotool("mousedown", 1)
        for x, y in points[1:]:
            time.sleep(0.04)
            xdotool("mousemove", int(x), int(y))
        xdotool("mouseup", 1)
        wait(lambda d: d["draw_text"] != "")
        answer = time.perf_counter() - start
    finally:
        probe.with_suffix(".quit").touch()
        try:
            app.wait(timeout=60)
        except subprocess.TimeoutExpired:
            app.kill()
    return window, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated row names to run (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one, photos = make_inputs(folder)
        log = ["--log", str(folder / "log.sqlite")]
        rows = {
            "--help": [WORKBENCH, "--help"],
            "--version": [WORKBENCH, "--version"],
            "usage error (predict, no file)": [WORKBENCH, "predict"],
            "predict missing.png": [WORKBENCH, "predict", str(folder / "missing.png"), *log],
            "models": [WORKBENCH, "models"],
            "list": [WORKBENCH, "list"],
            "predict one.png (cnn + gate)": [WORKBENCH, "predict", str(one), *log],
            "predict one.png (logreg + gate)": [WORKBENCH, "predict", "--model", "logreg", str(one), *log],
            "predict 100 photos 640x480 (cnn + gate)": [WORKBENCH, "predict", *map(str, photos), *log],
        }
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        results = {}
        for name, command in rows.items():
            if wanted and not any(w in name for w in wanted):
                continue
            cold, warm = [], []
            for _ in range(args.runs):
                cache = Path(tempfile.mkdtemp(dir=folder))
                env = {**os.environ, "WORKBENCH_XLA_CACHE": str(cache)}
                cold.append(timed(command, env))
                warm.append(timed(command, env))
            results[name] = (statistics.median(cold), statistics.median(warm))
            print(f"{name:42s} cold {results[name][0]:6.2f} s   warm {results[name][1]:6.2f} s", flush=True)
        if (not wanted or any("app" in w for w in wanted)) and shutil.which("Xvfb") and shutil.which("xdotool"):
            with Display() as display:
                cold, warm = [], []
                for _ in range(args.runs):
                    cache = Path(tempfile.mkdtemp(dir=folder))
                    env = {**os.environ, "WORKBENCH_XLA_CACHE": str(cache)}
                    cold.append(app_run(display, env, folder))
                    warm.append(app_run(display, env, folder))
            for k, name in enumerate(("app: window with a usable canvas", "app: answer to a drawing made at once")):
                results[name] = (statistics.median(c[k] for c in cold), statistics.median(w[k] for w in warm))
                print(f"{name:42s} cold {results[name][0]:6.2f} s   warm {results[name][1]:6.2f} s", flush=True)
    print(f"median of {args.runs} runs, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    main()

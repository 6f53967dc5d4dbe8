"""Frame rate of the app's UI with the demo camera running, under Xvfb with software OpenGL.

    .venv/bin/python benchmarks/app_fps.py [--model cnn] [--seconds 30]

Starts ``workbench app --camera demo`` on a private Xvfb display (1280x800x24, Mesa llvmpipe),
lets it warm up for 10 s, then samples the app's probe file (``WORKBENCH_APP_PROBE``) for
``--seconds``: UI frames rendered per second (the render loop, which also uploads each new camera
frame to its texture) and the camera loop's own frames per second (capture, reading, tracking).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.json"
        read, write = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=[write], stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            display = ":" + pipe.readline().strip()
        env = {**os.environ, "DISPLAY": display, "WORKBENCH_APP_PROBE": str(probe)}
        app = subprocess.Popen([sys.executable, "-m", "workbench.cli", "app", "--model", args.model, "--camera", "demo",
                                "--log", str(Path(tmp) / "log.sqlite")], env=env)
        try:
            time.sleep(10)

            def sample():
                data = json.loads(probe.read_text())
                return time.perf_counter(), data["frame"], data["camera_status"]

            t0, f0, _ = sample()
            time.sleep(args.seconds)
            t1, f1, status = sample()
        finally:
            probe.with_suffix(".quit").touch()
            app.wait(timeout=60)
            xvfb.terminate()
    camera_fps = re.search(r"([\d.]+) frames/s", status)
    print(f"model {args.model}, {os.cpu_count()} CPUs, Xvfb 1280x800x24 + llvmpipe, demo camera 640x480")
    print(f"UI frames per second      {(f1 - f0) / (t1 - t0):.1f}")
    print(f"camera loop frames/second {camera_fps.group(1) if camera_fps else '?'}  ({status})")


if __name__ == "__main__":
    main()

"""CPU time of the frame reader's ``find_digits``, this code against another git revision's,
interleaved on the same fixture files, so that a busy or slower machine does not pass for a
change in the code.

    .venv/bin/python benchmarks/live_fixtures.py --out /tmp/live-fixtures
    .venv/bin/python benchmarks/frame_cpu.py --fixtures /tmp/live-fixtures --against 815b783

Per kind: the first ``--frames`` files, ``--rounds`` rounds, each round timing both revisions
on every frame, in turn first (process CPU time, one OpenCV thread); p50, p95 and mean
in milliseconds. The other revision's ``workbench/live/frame.py`` is loaded on its own (it must
import only what this checkout's package still has).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from workbench.live import frame as this_frame
from workbench.live.images import read_image

ROOT = Path(__file__).resolve().parents[1]


def load_frame_module(revision: str):
    """``workbench/live/frame.py`` as it was at ``revision``, as a module."""
    source = subprocess.run(["git", "show", f"{revision}:workbench/live/frame.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "frame_at_revision.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("frame_at_revision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=Path("/tmp/live-fixtures"))
    parser.add_argument("--against", required=True, help="git revision to compare with (e.g. HEAD~1)")
    parser.add_argument("--kinds", nargs="+", default=["printed", "closeups", "numbers", "drawn_numbers", "pages"])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    other = load_frame_module(args.against)
    truth = json.loads((args.fixtures / "truth.json").read_text())
    print(f"find_digits CPU time, ms: {args.against} / this checkout")
    for kind in args.kinds:
        images = [read_image(args.fixtures / name) for name in list(truth[kind])[: args.frames]]
        for module in (other, this_frame):
            for image in images[:5]:
                module.find_digits(image)  # warm-up
        times = {"other": [], "this": []}
        for r in range(args.rounds):  # the order alternates: the second of two runs was up to 9% slower
            for name, module in (("other", other), ("this", this_frame))[:: 1 if r % 2 == 0 else -1]:
                for image in images:
                    start = time.process_time()
                    module.find_digits(image)
                    times[name].append(time.process_time() - start)
        other_ms, this_ms = (np.array(times[name]) * 1e3 for name in ("other", "this"))
        print(f"{kind:<13} p50 {np.percentile(other_ms, 50):.2f} / {np.percentile(this_ms, 50):.2f}   "
              f"p95 {np.percentile(other_ms, 95):.2f} / {np.percentile(this_ms, 95):.2f}   "
              f"mean {other_ms.mean():.2f} / {this_ms.mean():.2f}")


if __name__ == "__main__":
    main()

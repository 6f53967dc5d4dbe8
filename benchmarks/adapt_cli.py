"""A writer teaches the model their style through files, every step a `workbench` command run as
its own process, the way a user would: read, correct, adapt, read again.

    .venv/bin/python benchmarks/adapt_cli.py [--writer "barred 7"] [--seed 0] [--model cnn] [--out DIR]

The writer (:data:`workbench.synth.WRITERS`; digits and files as ``benchmarks/adapt.py``'s
"files" path: MNIST *test* digits in their style, re-drawn dark on white, saved as PNG) has
60 files read with ``workbench predict --log``, labels each with ``workbench log --correct
ID=DIGIT`` (the record ids from ``workbench log --export``: 40 of their own digit, 20 others,
corrections and confirmations alike), runs ``workbench adapt MODEL --name MODEL-me`` (timed:
the whole process, start to exit) and reads 200 other files of theirs with both models
(``workbench predict --no-log --json``). Models are saved in a temporary folder
(``$WORKBENCH_MODELS``); the log and files stay in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from adapt import writer_digits, written  # benchmarks/adapt.py: the same writers and files

from workbench.data import load_mnist
from workbench.synth import WRITERS

WORKBENCH = str(Path(sys.executable).with_name("workbench"))


def run(*args: str, env: dict) -> str:
    done = subprocess.run([WORKBENCH, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"workbench {' '.join(args[:2])} ... failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def save(images: list, labels: np.ndarray, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    truth = {}
    for k, (image, label) in enumerate(zip(images, labels, strict=True)):
        path = folder / f"{k:04d}.png"
        cv2.imwrite(str(path), image)
        truth[str(path.resolve())] = int(label)
    return truth


def score(readings: list, truth: dict, own: int) -> tuple[int, int, int, int]:
    """Right among the writer's own digit, how many of them, right among the others, how many."""
    right = {r["path"]: r["text"] == str(truth[r["path"]]) for r in readings}
    mine = [p for p, label in truth.items() if label == own]
    others = [p for p in truth if p not in mine]
    return sum(right[p] for p in mine), len(mine), sum(right[p] for p in others), len(others)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writer", default="barred 7", choices=list(WRITERS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--out", default=None, help="folder for the files and the log (default: a temporary one)")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="adapt-cli-"))
    rng = np.random.default_rng([args.seed, list(WRITERS).index(args.writer), 1])  # as adapt.py's files path
    X, y = load_mnist("test")
    (sX, sy), (eX, ey) = writer_digits(X, y, args.writer, rng)
    stream = save(written(sX, sy, "files", rng), sy, out / "stream")
    evaluation = save(written(eX, ey, "files", rng), ey, out / "evaluation")
    log = out / "log.sqlite"
    log.unlink(missing_ok=True)
    env = {**os.environ, "WORKBENCH_MODELS": tempfile.mkdtemp(prefix="adapt-cli-models-")}
    mine = f"{args.model}-me"

    run("predict", *stream, "--log", str(log), env=env)
    run("log", "--log", str(log), "--export", str(out / "log.csv"), env=env)
    records = pd.read_csv(out / "log.csv")
    corrections = [f"{i}={stream[origin]}" for i, origin in zip(records["id"], records["origin"], strict=True)]
    run("log", "--log", str(log), *[a for c in corrections for a in ("--correct", c)], env=env)
    start = time.perf_counter()
    said = run("adapt", args.model, "--log", str(log), "--name", mine, env=env)
    seconds = time.perf_counter() - start
    print(said.rstrip())
    own = WRITERS[args.writer]
    print(f"\n{args.writer} writer, seed {args.seed}: {len(records)} records labelled "
          f"({int((records['label'] != records['origin'].map(stream)).sum())} were misread); "
          f"`workbench adapt` took {seconds:.0f} s, start to exit")
    n_own = int((ey == own).sum())
    print(f"| | their {n_own} other {own}s | {len(ey) - n_own} other digits | all | MNIST test |")
    print("|---|---|---|---|---|")
    meta = json.loads((Path(env["WORKBENCH_MODELS"]) / f"{mine}.json").read_text())
    mnist = meta["adaptation"]["mnist_test_accuracy"]
    for model, accuracy in ((args.model, mnist["before"]), (mine, mnist["after"])):
        readings = json.loads(run("predict", *evaluation, "--model", model, "--no-log", "--json", env=env))
        a, n, b, m = score(readings, evaluation, own)
        print(f"| `{model}` | {a} ({a / n:.1%}) | {b} ({b / m:.1%}) | {(a + b) / (n + m):.1%} | {accuracy:.2%} |")


if __name__ == "__main__":
    main()

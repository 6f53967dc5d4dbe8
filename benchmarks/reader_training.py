"""Train the cnn recipe on MNIST plus what the readers make of MNIST *training* digits.

    .venv/bin/python benchmarks/reader_training.py --crops 1000:4000 --out /tmp/reader-models
    .venv/bin/python benchmarks/live.py --fixtures /tmp/live-fixtures --model /tmp/reader-models/cnn-readers.json

The readers' misses left are the model's more than the segmentation's (README, "How far the
model lets the readers go"). This trains the shipped `cnn`'s recipe (25 epochs, corruption 0.5,
printed 0.1, random_state 0) on the 60,000 training digits plus, for each of drawings,
close-ups and page digits, about PER_KIND crops for each ``--crops SEED:PER_KIND``: training
digits rendered by the fixture generators (:mod:`workbench.synth`, scene seeds SEED and
up, never the fixtures' 0-3), saved as JPEG where the fixtures are, read back by ``find_digits`` (the path
``workbench predict`` takes) and labelled with the digit each came from (a drawing or close-up
that gives other than one finding, or a page digit no finding holds, is left out). No test
digit is used. The model is saved to ``--out``, not to the project's models folder.
"""

from __future__ import annotations

import argparse
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np
from live import contains  # benchmarks/live.py: a finding holds a digit when its box holds the digit's centre

from workbench.data import load_mnist
from workbench.live.frame import find_digits
from workbench.synth import closeup, redraw, render_page

KINDS = ("drawings", "closeups", "pages")
JPEG = [cv2.IMWRITE_JPEG_QUALITY, 90]


def _as_saved(image: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", image, JPEG)[1], cv2.IMREAD_UNCHANGED)


def reader_crops(job: tuple[str, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(crops, labels)`` of ``n`` scenes of one kind drawn with ``seed``."""
    kind, seed, n = job
    X, y = load_mnist("train")
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    for _ in range(n):
        if kind == "pages":
            idx = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
            page = render_page(X[idx], y[idx], rng)
            found = find_digits(_as_saved(page.image))
            for label, box in zip(page.labels, page.boxes, strict=True):
                holding = [c for c in found if contains(c.box, box)]
                if len(holding) == 1:
                    crops.append(holding[0].image)
                    labels.append(label)
            continue
        i = int(rng.integers(len(X)))
        image = redraw(X[i], rng) if kind == "drawings" else _as_saved(closeup(X[i], rng)[0])
        found = find_digits(image)
        if len(found) == 1:
            crops.append(found[0].image)
            labels.append(int(y[i]))
    return np.array(crops, np.uint8).reshape(-1, 28, 28), np.array(labels, int)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crops", nargs="+", default=["1000:4000"], metavar="SEED:PER_KIND",
                        help="sets of crops: first scene seed (the fixtures use 0-3) and crops of each kind (about)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/reader-models"))
    parser.add_argument("--name", default="cnn-readers")
    parser.add_argument("--random-state", type=int, default=0, help="the network's seed")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    from sklearn.pipeline import Pipeline

    from workbench.cnn import CNNClassifier
    from workbench.store import save_model
    from workbench.transforms import MnistNormalize

    start = time.time()
    # four jobs a kind in each set, each with its own seed; a page holds four digits on average
    sets = [tuple(int(v) for v in spec.split(":")) for spec in args.crops]
    jobs = [(kind, seed + 10 * k + j, per_kind // 4 // (4 if kind == "pages" else 1))
            for seed, per_kind in sets for k, kind in enumerate(KINDS) for j in range(4)]
    with Pool(args.jobs) as pool:
        parts = pool.map(reader_crops, jobs)
    for kind in KINDS:
        print(f"{kind}: {sum(len(p[1]) for job, p in zip(jobs, parts, strict=True) if job[0] == kind)} crops")
    print(f"crops made in {time.time() - start:.0f} s", flush=True)
    X, y = load_mnist("train")
    X = np.concatenate([X, *(p[0] for p in parts)])
    y = np.concatenate([y, *(p[1] for p in parts)])
    pipeline = Pipeline([("normalize", MnistNormalize()),
                         ("clf", CNNClassifier(epochs=25, corruption=0.5, printed=0.1, random_state=args.random_state,
                                                       verbose=2))])
    pipeline.fit(X, y)
    fit_seconds = time.time() - start
    X_test, y_test = load_mnist("test")
    accuracy = float((pipeline.predict(X_test) == y_test).mean())
    print(f"MNIST test accuracy {accuracy:.2%}, {fit_seconds:.0f} s in all")
    args.out.mkdir(parents=True, exist_ok=True)
    command = f"benchmarks/reader_training.py --crops {' '.join(args.crops)} --random-state {args.random_state}"
    save_model(pipeline, args.name, directory=args.out, metadata={
        "pipeline": "cnn", "command": command,
        "test": {"n": len(y_test), "accuracy": accuracy}, "fit_seconds": round(fit_seconds, 1)})


if __name__ == "__main__":
    main()

"""Time to explain one drawing (occlusion saliency, :func:`workbench.explain.saliency`) per model.

    .venv/bin/python benchmarks/saliency.py [cnn logreg ...] [--images 100]

Each model explains the same MNIST test digits one at a time, as the app's "why?" does after
each stroke; prints p50 and p95 in ms after one warm-up call.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from workbench.data import load_mnist
from workbench.explain import saliency
from workbench.store import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=["cnn", "logreg"])
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()
    X, _ = load_mnist("test", subset=args.images)
    for name in args.models:
        model = load_model(name)
        saliency(model, X[0])
        times = []
        for image in X:
            start = time.perf_counter()
            saliency(model, image)
            times.append(time.perf_counter() - start)
        p50, p95 = np.percentile(1000 * np.array(times), [50, 95])
        print(f"{name:<16} saliency p50 {p50:.1f} ms, p95 {p95:.1f} ms ({len(X)} drawings)")


if __name__ == "__main__":
    main()

"""Inference speed of a saved model: single-image latency and batch throughput.

    .venv/bin/python benchmarks/inference.py [MODEL] [--calls 1000]

MODEL (default ``cnn``, the shipped model) is any name from ``workbench models``. Prints:
- ``predict_proba`` on one image, p50 and p99 over ``--calls`` calls after warm-up, for the
  classifier alone (the compiled forward pass) and for the whole pipeline (with MnistNormalize);
- the same image through Keras' ``Model.predict`` (CNN models only), for comparison;
- ``predict`` throughput on the 10,000 MNIST test images, and their accuracy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import workbench


def latency_ms(fn, calls: int, warmup: int = 20) -> tuple[float, float]:
    """p50 and p99 wall time of ``fn()`` in milliseconds over ``calls`` calls after warm-up."""
    for _ in range(warmup):
        fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="cnn")
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    pipe = workbench.load_model(args.model)
    print(f"model {args.model}: loaded and compiled in {time.perf_counter() - start:.2f} s "
          f"({os.cpu_count()} CPUs)")
    X, y = workbench.load_mnist("test")
    image = X[:1]
    clf = pipe[-1]
    features = pipe[:-1].transform(image) if len(pipe) > 1 else image

    rows = [("pipeline.predict_proba (1 image)", *latency_ms(lambda: pipe.predict_proba(image), args.calls))]
    rows.append(("classifier.predict_proba (1 image)", *latency_ms(lambda: clf.predict_proba(features), args.calls)))
    if hasattr(clf, "model_"):
        x = np.asarray(features, np.float32).reshape(1, 28, 28, 1)
        if x.max() > 1:
            x = x / 255.0
        rows.append(("keras Model.predict (1 image)", *latency_ms(
            lambda: clf.model_.predict(x, verbose=0), min(args.calls, 300))))
    for name, p50, p99 in rows:
        print(f"{name:36s} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms")

    pipe.predict(X[:512])  # warm-up
    start = time.perf_counter()
    pred = pipe.predict(X)
    seconds = time.perf_counter() - start
    print(f"pipeline.predict on {len(X):,} test images: {seconds:.2f} s = {len(X) / seconds:,.0f} images/s; "
          f"accuracy {np.mean(pred == y):.4f}")


if __name__ == "__main__":
    main()

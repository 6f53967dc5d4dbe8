"""Peak memory and time of `workbench log --export` on a large prediction log.

Builds a log of N records (default 300,000: about 300 MB, the size of a camera left running
for days) with realistic rows (a 28x28 MNIST test digit, ten probabilities, a model hash),
then exports it to CSV and to Parquet with the real command in a fresh process each, and
reports the wall time and the process's peak resident memory.

    .venv/bin/python benchmarks/log_export.py [--records 300000] [--folder /tmp/log-export]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from workbench import load_mnist
from workbench.live.log import PredictionLog


def build(path: Path, records: int) -> None:
    """A log of ``records`` rows, written in large transactions (``add`` commits each row)."""
    PredictionLog(path).close()  # the schema, WAL mode
    X, y = load_mnist("test")
    rng = np.random.default_rng(0)
    import sqlite3

    with sqlite3.connect(path) as db:
        for start in range(0, records, 10_000):
            rows = []
            for i in range(start, min(records, start + 10_000)):
                p = rng.dirichlet(np.full(10, 0.1))
                rows.append((1.7e9 + i, "camera", "cnn", "ab" * 32, int(np.argmax(p)), float(p.max()),
                             json.dumps([round(float(v), 6) for v in p]), 1.2, X[i % len(X)].tobytes(),
                             int(y[i % len(y)]) if i % 50 == 0 else None))
            db.executemany("INSERT INTO predictions (time, source, model, model_sha256, label, confidence,"
                           " probabilities, latency_ms, image, corrected_label) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)


def export(log: Path, target: Path) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one `workbench log --export` process."""
    start = time.perf_counter()
    code = ("import resource, sys\nfrom workbench.cli import main\n"
            f"code = main(['log', '--log', {str(log)!r}, '--export', {str(target)!r}])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/log-export"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    log = args.folder / f"log-{args.records}.sqlite"
    if not log.exists():
        started = time.perf_counter()
        build(log, args.records)
        print(f"built {log} ({args.records:,} records) in {time.perf_counter() - started:.0f} s")
    print(f"log: {log.stat().st_size / 1e6:,.0f} MB, {args.records:,} records")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for suffix in (".csv", ".parquet"):
        target = args.folder / f"export{suffix}"
        seconds, peak = export(log, target)
        print(f"export to {suffix:<8}: {seconds:6.1f} s, peak memory {peak:6.0f} MB, "
              f"file {target.stat().st_size / 1e6:,.0f} MB")
    print(f"(this benchmark's own process, for scale: {baseline:.0f} MB)")


if __name__ == "__main__":
    main()

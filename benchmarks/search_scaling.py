"""Wall time of one fixed search run locally and on a Dask cluster of 1 and 2 workers.

Each worker is a process with one thread, on this machine (a LocalCluster on loopback); the
scores must be identical in every run. Usage::

    .venv/bin/python benchmarks/search_scaling.py [--pipeline deskew_svc] [--subset 6000] [--folds 3]
"""

from __future__ import annotations

import argparse
import time

from dask.distributed import LocalCluster

from workbench.evaluate import search

GRID = {"clf__estimator__C": [1, 3, 10, 30]}


def timed(**kwargs):
    start = time.perf_counter()
    table = search(**kwargs)
    return time.perf_counter() - start, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="deskew_svc")
    parser.add_argument("--subset", type=int, default=6000)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    common = {"name": args.pipeline, "grid": GRID, "subset": args.subset, "folds": args.folds}
    fits = len(GRID["clf__estimator__C"]) * args.folds
    print(f"search of {args.pipeline} over {GRID} on {args.subset} images, {args.folds} folds: {fits} fits")

    runs = {"local, 1 process": timed(**common, n_jobs=1)}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            search(**{**common, "grid": {k: v[:1] for k, v in GRID.items()}, "folds": 2},
                   scheduler=cluster.scheduler_address)  # warm up: workers import the workbench
            runs[f"Dask, {workers} worker{'s' * (workers > 1)}"] = timed(**common, scheduler=cluster.scheduler_address)

    reference = runs["local, 1 process"][1].drop(columns="fit_time")
    print(f"{'run':<22} {'wall s':>8} {'speed-up':>9}  same scores")
    base = runs["Dask, 1 worker"][0]
    for label, (seconds, table) in runs.items():
        same = table.drop(columns="fit_time").equals(reference)
        print(f"{label:<22} {seconds:8.1f} {base / seconds:9.2f}  {same}")


if __name__ == "__main__":
    main()

"""A saved model's accuracy under every corruption kind and level of the comparison report,
next to the best other pipeline of a committed full report.

    .venv/bin/python benchmarks/robustness.py [--model cnn] [--report reports/full]

Uses exactly the report's robustness set (the same stratified 2,000 test digits, the same
corruption seeds: ``FULL`` settings of :mod:`workbench.compare`), so the model's row can be set
beside the rows the report measured for the other pipelines without refitting them. Prints, for
each kind and level, the model's accuracy, the best other pipeline's, and the gap.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.metrics import accuracy_score

from workbench.compare import FULL
from workbench.corruptions import CORRUPTIONS, corrupt
from workbench.data import load_mnist
from workbench.store import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--pipeline", default="cnn", help="the report's row this model replaces")
    parser.add_argument("--report", type=Path, default=Path("reports/full"))
    args = parser.parse_args()
    model = load_model(args.model)
    X, y = load_mnist("test", subset=FULL.robustness_subset, random_state=FULL.random_state)
    rows = [{"kind": kind, "level": level,
             "model": accuracy_score(y, model.predict(corrupt(X, kind, level, FULL.random_state)))}
            for kind, (levels, _) in CORRUPTIONS.items() for level in levels]
    table = pd.DataFrame(rows)
    report = pd.read_csv(args.report / "robustness.csv")
    before = report[report.pipeline == args.pipeline].set_index(["kind", "level"])["accuracy"]
    others = report[report.pipeline != args.pipeline]
    best = others.loc[others.groupby(["kind", "level"])["accuracy"].idxmax()].set_index(["kind", "level"])
    table = table.set_index(["kind", "level"])
    table["report's cnn"] = before
    table["best other"] = best["accuracy"]
    table["which"] = best["pipeline"]
    table["gap (points)"] = 100 * (table["model"] - table["best other"])
    print(f"{args.model} on {len(y)} corrupted test digits (the robustness set of {args.report})")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    worst = table["gap (points)"].min()
    print(f"worst gap to the best other pipeline: {worst:+.2f} points")


if __name__ == "__main__":
    main()

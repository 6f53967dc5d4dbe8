"""Rows of digits with one digit replaced by a handwritten letter or a scribble: does the reader
keep the number's length (the mark shown as "?" in its place), or read the mark as one digit or
as two (a letter's two strokes cut apart as digits written touching)?

    .venv/bin/python benchmarks/marks_in_rows.py [--rows 600] [--seed 7] [--model cnn]

The rows are ``synth.row_with_a_mark``'s, the generator of ``tests/test_rows.py``'s 24 (five
MNIST test digits scanned dark on light, 40-90 pixels high, gaps of 0.15-0.6 digit heights, one
digit replaced by a letter or a scribble of ``synth.non_digit``), here as many as asked, with
another seed. Prints how many
readings are shorter, longer, and of the right length with the mark refused in its place.
"""

from __future__ import annotations

import argparse

import numpy as np

from workbench import load_mnist
from workbench.live.predictor import Predictor
from workbench.synth import row_with_a_mark


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", default="cnn")
    args = parser.parse_args(argv)
    X_test, y_test = load_mnist("test", subset=500)
    predictor = Predictor(args.model)
    rng = np.random.default_rng(args.seed)
    counts = {"shorter": 0, "longer": 0, "refused in place": 0, "right length, mark read as a digit": 0}
    for n in range(args.rows):
        scan, _, odd = row_with_a_mark(X_test, rng, ("handwritten letter", "scribble")[n % 2])
        text = predictor.read_frame(scan).text
        if len(text) < 5:
            counts["shorter"] += 1
        elif len(text) > 5:
            counts["longer"] += 1
        elif text[odd] == "?":
            counts["refused in place"] += 1
        else:
            counts["right length, mark read as a digit"] += 1
    predictor.close()
    print(f"{args.rows} rows of five with one letter or scribble (seed {args.seed}, model {args.model}):")
    for what, count in counts.items():
        print(f"  {what}: {count}")


if __name__ == "__main__":
    main()

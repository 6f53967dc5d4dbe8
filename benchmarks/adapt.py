"""A user whose style the model misreads, before and after `workbench adapt` on 20, 50 and 100
of their corrections; and MNIST test accuracy after.

    .venv/bin/python benchmarks/adapt.py [--model cnn] [--corrections 20 50 100]

The user writes in the continental style (:func:`workbench.synth.continental`: 1 with a
long up-stroke, crossed 7, slashed 0) and draws on the app's canvas: MNIST *test* digits are
styled, re-drawn with a random brush, size and place (:func:`workbench.synth.redraw`)
and read by the canvas reader, as the app reads a drawing
(:func:`workbench.synth.continental_user`). 120 digits of each class form the
user's stream; 100 others of each class are their evaluation set, never used for adapting.

The simulated user goes through the stream as someone using the app would: every digit the
model misreads is corrected, and the first N corrections are what ``workbench adapt`` gets
(it holds out a quarter of them itself, as the command does). Printed: the user's accuracy
(all ten digits, and the three styled ones) and the MNIST test accuracy, before and after.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from workbench.adapt import adapt_from_log
from workbench.data import load_mnist
from workbench.store import load_model
from workbench.synth import CONTINENTAL, continental_user

STREAM, EVALUATION = 120, 100  # digits of each class


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--corrections", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    X_test, y_test = load_mnist("test")
    X_train, y_train = load_mnist("train")
    stream_X, stream_y = continental_user(X_test, y_test, rng, STREAM)
    eval_X, eval_y = continental_user(X_test, y_test, rng, EVALUATION, skip=STREAM)
    styled = np.isin(eval_y, CONTINENTAL)
    model = load_model(args.model)

    def user_accuracy(m):
        right = m.predict(eval_X) == eval_y
        return right.mean(), right[styled].mean()

    wrong = np.flatnonzero(model.predict(stream_X) != stream_y)  # what the user corrects, in order
    before, before_styled = user_accuracy(model)
    print(f"model {args.model}; user's evaluation set {len(eval_y)} digits ({styled.sum()} styled: "
          f"{', '.join(map(str, CONTINENTAL))}); stream {len(stream_y)} digits, {len(wrong)} misread")
    print(f"{'corrections':>11} {'user':>7} {'styled':>7} {'held-out':>9} {'MNIST test':>11} {'seconds':>8}")
    mnist_before = float(np.mean(model.predict(X_test) == y_test))
    print(f"{0:>11} {before:>7.2%} {before_styled:>7.2%} {'':>9} {mnist_before:>11.2%} {'':>8}")
    for n in args.corrections:
        if n > len(wrong):
            print(f"{n:>11} (the stream has only {len(wrong)} misread digits)")
            continue
        picked = wrong[:n]
        start = time.perf_counter()
        adapted, report = adapt_from_log(model, stream_X[picked], stream_y[picked], X_train=X_train,
                                         y_train=y_train, X_test=X_test, y_test=y_test, random_state=args.seed)
        seconds = time.perf_counter() - start
        after, after_styled = user_accuracy(adapted)
        held = report["held_out_accuracy"]
        print(f"{n:>11} {after:>7.2%} {after_styled:>7.2%} {held['after']:>9.0%} "
              f"{report['mnist_test_accuracy']['after']:>11.2%} {seconds:>8.1f}")


if __name__ == "__main__":
    main()

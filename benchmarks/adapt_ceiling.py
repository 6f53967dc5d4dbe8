"""How well the network can read a writer's style at all while keeping MNIST: fine-tuned with
thousands of examples of the style instead of a few dozen corrections.

    .venv/bin/python benchmarks/adapt_ceiling.py ["closed 4"] [--epochs 2]

Half of the MNIST *training* digits of the writer's digit are put in their style
(:func:`workbench.synth.in_style`: about 2,900 closed 4s), and the shipped model is fine-tuned
on the whole training split so changed (warm start, peak learning rate 3e-4, cosine), the way
``adapt`` fine-tunes but with 50 times the examples and all of MNIST. Printed: MNIST test
accuracy, the MNIST test digits of that class put in the style (28x28, straight to the model)
and the writer's evaluation files of ``benchmarks/adapt.py`` (seed 0, "files" path) read as
``workbench predict`` reads them. What a few corrections reach is measured against this.
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
from adapt import PATHS, read, writer_digits, written  # benchmarks/adapt.py: the same writer and files

from workbench.data import load_mnist
from workbench.live.predictor import ActiveModel, Predictor
from workbench.synth import WRITERS, in_style


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("writer", nargs="?", default="closed 4", choices=list(WRITERS))
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    digit = WRITERS[args.writer]
    X_test, y_test = load_mnist("test")
    X_train, y_train = load_mnist("train")
    base = Predictor("cnn")
    styled = np.stack([in_style(x, label, args.writer) if label == digit and i % 2 else x
                       for i, (x, label) in enumerate(zip(X_train, y_train, strict=True))])
    print(f"{args.writer}: {int((styled != X_train).any((1, 2)).sum())} training digits put in the style")
    model = copy.deepcopy(base.active.pipeline)
    model[-1].set_params(warm_start=True, epochs=args.epochs, learning_rate=3e-4, lr_schedule="cosine", verbose=0)
    start = time.perf_counter()
    model[-1].fit(model[0].transform(styled), y_train)
    print(f"fine-tuned {args.epochs} epochs in {time.perf_counter() - start:.0f} s")
    own = y_test == digit
    test_styled = np.stack([in_style(x, digit, args.writer) for x in X_test[own]])
    rng = np.random.default_rng([0, list(WRITERS).index(args.writer), PATHS.index("files")])
    (sX, sy), (eX, ey) = writer_digits(X_test, y_test, args.writer, rng)
    written(sX, sy, "files", rng)  # drawn first in adapt.py: the evaluation files are the same
    evaluation = written(eX, ey, "files", rng)
    mine = ey == digit
    print("| model | MNIST test | test digits in the style (28x28) | the writer's files: their digit | other digits |")
    print("|---|---|---|---|---|")
    for name, pipeline in (("cnn", base.active.pipeline), ("fine-tuned", model)):
        answers, _ = read(Predictor(ActiveModel(name, "", pipeline, {}), gate=base.gate), evaluation, "files")
        right = np.array([a == t for a, t in zip(answers, ey, strict=True)])
        print(f"| {name} | {np.mean(pipeline.predict(X_test) == y_test):.2%} | "
              f"{np.mean(pipeline.predict(test_styled) == digit):.1%} | {right[mine].mean():.0%} | "
              f"{right[~mine].mean():.0%} |")


if __name__ == "__main__":
    main()

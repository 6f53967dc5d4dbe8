"""Training the digit gate: its data, its network, its thresholds, its measurements.

The gate at run time is :mod:`workbench.live.gate`; this module makes it.

A digit classifier answers a digit for anything: a letter, a scribble, a dot on an empty
canvas. Its own confidence does not tell them apart (measured: at the confidence that rejects
0.5% of MNIST, the shipped CNN accepts 75-85% of letters, scribbles and marks; the distance in
its feature space and the energy score, 50-77%), because it never saw anything else. The gate
is a network of its own that did: trained on MNIST *training* digits as they reach a
model (scanned, re-drawn on the canvas, printed in half of the fonts, traced in two stroke
hands, straight 1s as a mouse draws them, cut out of photographed pages, close-ups and large
numbers by the frame reader) against synthetic non-digits (printed letters in the
same half of the fonts, letters traced in two stroke hands, scribbles, stray marks;
:func:`workbench.synth.non_digit`). It sits in front of every model
(:class:`workbench.live.predictor.Predictor`), so swapping the model keeps it.

Its threshold is chosen on held-out data: the highest score that refuses at most 0.5% of the
first half of the MNIST test split, as scanned and as drawn on the canvas
(:func:`choose_threshold`). Measured on what it never saw: the second half of the test split,
test digits re-drawn on the canvas, digits and letters in the other half of the fonts, letters
in a third hand (OpenCV's script font), new scribbles and marks.

    .venv/bin/python -m workbench.gate_training        # fit, choose the threshold, measure, save

writes ``models/gate/digit_gate.json`` (+ ``.skops``) with the threshold and the measurements.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np

from workbench.live.gate import GATE_FOLDER, GATE_NAME, digit_score, load_gate

REJECT_DIGITS = 0.005  # the share of held-out MNIST digits the threshold may refuse
REJECT_FRAME_DIGITS = 0.001  # ... and of digits cut out of photos (a page has several)
#: Non-digits of each kind the gate learns from. Scribbles vary most (any curve, any tangle):
#: with 6,000 of each kind the gate accepted 20.0% of the held-out scribbles (see make_gate).
NEGATIVES = {"letter": 6_000, "handwritten letter": 6_000, "scribble": 36_000, "marks": 6_000}


def _non_digits(kind: str, n: int, seed: int, fonts=None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` non-digits of ``kind`` as the canvas reader gives them to a model, and what each is."""
    from workbench.live.canvas import read_canvas
    from workbench.synth import non_digit

    rng = np.random.default_rng(seed)
    images, what = [], []
    while len(images) < n:
        canvas, label = non_digit(kind, rng, fonts=fonts)
        image = read_canvas(canvas)
        if image is not None:  # an empty canvas is refused before any model
            images.append(image)
            what.append(label)
    return np.stack(images), np.array(what)


def _drawn(X: np.ndarray, seed: int) -> np.ndarray:
    """Digits re-drawn on the canvas (random brush, size, place) as the canvas reader reads them."""
    from workbench.live.canvas import read_canvas
    from workbench.synth import redraw

    rng = np.random.default_rng(seed)
    return np.stack([read_canvas(redraw(image, rng, invert=False)) for image in X])


#: Handwriting-like letters: the gate learns from two stroke fonts; the script font is kept to
#: measure it on a hand it never saw.
HAND_TRAIN, HAND_MEASURE = ["hershey-simplex", "hershey-italic"], ["hershey-script-simplex"]


def _measure_fonts() -> dict[str, list[str] | None]:
    """The fonts each kind of non-digit is drawn in to measure the gate: none it was trained on."""
    from workbench.printed import font_halves

    return {"letter": font_halves()[1], "handwritten letter": HAND_MEASURE, "scribble": None, "marks": None}


def held_out_non_digits(kind: str, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The 600 non-digits of ``kind`` :func:`measure` scores the gate on (fonts and a hand it was
    not trained on, new scribbles and marks), and what each is."""
    return _non_digits(kind, 600, seed + 100, _measure_fonts()[kind])


def _printed_digits(n: int, seed: int, fonts: list[str]) -> np.ndarray:
    """Printed digits in ``fonts`` as the canvas reader gives them: digits too, for the gate."""
    from workbench.printed import printed_digits

    return printed_digits(n, np.random.default_rng(seed), fonts=fonts)[0]


def _traced_digits(n: int, seed: int, fonts: list[str]) -> np.ndarray:
    """Digits traced in the stroke fonts the letters are traced in, and straight-stroke 1s as a
    mouse draws them: without them, the gate would learn the tracing, not the shapes."""
    from workbench.live.canvas import read_canvas
    from workbench.synth import straight_one, traced

    rng = np.random.default_rng(seed)
    images = [read_canvas(traced(str(int(rng.integers(10))), rng, fonts=fonts)) for _ in range(n)]
    images += [read_canvas(straight_one(rng)) for _ in range(n // 4)]
    return np.stack(images)


def _photographed(X: np.ndarray, seed: int, pages: int, closeups: int, numbers: int, printed: int,
                  fonts: list[str]) -> np.ndarray:
    """Digits as the frame reader cuts them out of photos: of pages of 2-6 digits, of single
    digits held up close, of numbers written large, of printed digits in ``fonts``
    (:mod:`workbench.synth`)."""
    from workbench import synth
    from workbench.live.frame import find_digits

    rng = np.random.default_rng(seed)
    images = []
    for _ in range(pages):
        picked = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        page = synth.render_page(X[picked], np.zeros(len(picked), int), rng)
        images += [found.image for found in find_digits(page.image)]
    for i in rng.choice(len(X), closeups, replace=False):
        images += [found.image for found in find_digits(synth.closeup(X[i], rng)[0])]
    for _ in range(numbers):
        picked = rng.choice(len(X), int(rng.integers(2, 5)), replace=False)
        images += [found.image for found in find_digits(synth.large_number(X[picked], rng))]
    for _ in range(printed):
        images += [found.image for found in find_digits(synth.printed(int(rng.integers(10)), rng, fonts=fonts)[0])]
    return np.stack(images)


def training_set(seed: int = 0, *, scanned: int = 24_000, drawn: int = 16_000, printed: int = 4_000,
                 pages: int = 1_000, closeups: int = 2_000, numbers: int = 1_000, negatives: dict | None = None):
    """Images and targets (1 digit, 0 not) to fit the gate, from the MNIST training split only:
    digits as scanned, as drawn on the canvas, printed in the training fonts, as cut out of
    photos; against letters (training fonts and hands), scribbles and marks, as many of each
    as ``negatives`` says (default :data:`NEGATIVES`)."""
    from workbench.data import load_mnist
    from workbench.printed import font_halves

    X, _ = load_mnist("train")
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(X), scanned + drawn, replace=False)
    train_fonts, _ = font_halves()
    fonts = {"letter": train_fonts, "handwritten letter": HAND_TRAIN}
    negatives = [_non_digits(kind, n, seed + i, fonts.get(kind))[0]
                 for i, (kind, n) in enumerate((negatives or NEGATIVES).items())]
    positives = [X[picked[:scanned]], _drawn(X[picked[scanned:]], seed), _printed_digits(printed, seed, train_fonts),
                 _traced_digits(printed, seed, HAND_TRAIN),
                 _photographed(X, seed, pages, closeups, numbers, printed, train_fonts)]
    images = np.concatenate([*positives, *negatives])
    target = np.r_[np.ones(sum(map(len, positives)), int), np.zeros(sum(map(len, negatives)), int)]
    return images, target


def make_gate(seed: int = 0):
    """The gate's (unfitted) pipeline: the models' normaliser and the CNN's network with two
    classes. Held-out scribbles accepted, by what the gate learnt from: a network a quarter of
    this size, 4 epochs, 6,000 scribbles 20.0%; 6 epochs and 24,000 scribbles 12.3%; this
    network, 8 epochs, 24,000 scribbles 6.7%; 12 epochs and 36,000 scribbles 4.7%."""
    from sklearn.pipeline import Pipeline

    from workbench.cnn import CNNClassifier
    from workbench.transforms import MnistNormalize

    return Pipeline([("normalize", MnistNormalize()),
                     ("clf", CNNClassifier(epochs=12, corruption=0.3, random_state=seed))])




def measure(score, threshold: float, seed: int = 1) -> list[dict]:
    """What a score refuses (below ``threshold``) and accepts, kind by kind, on images the gate
    never saw. ``score(images)``: e.g. a :class:`~workbench.live.gate.Gate`'s ``score``, or a model's own
    top probability."""
    from workbench.data import load_mnist
    from workbench.printed import font_halves
    from workbench.synth import DIGIT_LIKE_LETTERS

    X_test, _ = load_mnist("test")
    _, measure_fonts = font_halves()
    rows = []
    for kind, images in (("MNIST test digits (second half)", X_test[5000:]),
                         ("test digits drawn on the canvas", _drawn(X_test[5000:6000], seed)),
                         ("printed digits (fonts not trained on)", _printed_digits(600, seed, measure_fonts)),
                         ("digits traced in a hand not trained on", _traced_digits(600, seed, HAND_MEASURE))):
        rows.append({"kind": kind, "n": len(images), "refused": float(np.mean(score(images) < threshold))})
    names = {"letter": "letters (fonts not trained on)", "handwritten letter": "handwritten letters (a hand not "
             "trained on)", "scribble": "scribbles", "marks": "marks"}
    for kind in _measure_fonts():
        images, what = held_out_non_digits(kind, seed)
        accepted = score(images) >= threshold
        row = {"kind": names[kind], "n": len(images), "accepted": float(accepted.mean())}
        if "letter" in kind:
            row["accepted, not digit-like"] = float(accepted[~np.isin(what, list(DIGIT_LIKE_LETTERS))].mean())
        rows.append(row)
    return rows


def non_digit_sample(per_kind: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Non-digits the gate was not trained on, ``per_kind`` of each kind (letters in the measuring
    fonts, a hand it never saw, new scribbles and marks), and their kinds: what the comparison
    report's "refuses non-digits" column counts."""
    parts = [(_non_digits(kind, per_kind, seed + i, fonts)[0], kind)
             for i, (kind, fonts) in enumerate(_measure_fonts().items())]
    return np.concatenate([images for images, _ in parts]), np.repeat([kind for _, kind in parts], per_kind)








def choose_threshold(score) -> float:
    """The highest threshold that refuses at most :data:`REJECT_DIGITS` of the held-out digits:
    the first half of the MNIST test split as scanned, and 2,000 of them drawn on the canvas
    (a user's drawings matter as much as MNIST's scans)."""
    from workbench.data import load_mnist

    X_test, _ = load_mnist("test")
    return float(min(np.quantile(score(X_test[:5000]), REJECT_DIGITS),
                     np.quantile(score(_drawn(X_test[:2000], seed=2)), REJECT_DIGITS)))


def choose_frame_threshold(score) -> float:
    """The threshold for digits cut out of photos: a number or a page is read right only when
    every digit of it is kept, so at most :data:`REJECT_FRAME_DIGITS` of held-out photographed
    digits (pages, close-ups and numbers made of the first half of the MNIST test split) may
    be refused."""
    from workbench.data import load_mnist

    X_test, _ = load_mnist("test")
    crops = _photographed(X_test[:5000], 2, pages=500, closeups=500, numbers=500, printed=0, fonts=[])
    return float(np.quantile(score(crops), REJECT_FRAME_DIGITS))


def _print(title: str, rows: list[dict]) -> None:
    print(title)
    for row in rows:
        figures = ", ".join(f"{k} {v:.1%}" for k, v in row.items() if k not in ("kind", "n"))
        print(f"  {row['kind']:<42} n={row['n']:<5} {figures}")


def main(argv: list[str] | None = None) -> None:
    from workbench.store import load_model, models_dir, save_model

    parser = argparse.ArgumentParser(description="Fit the digit gate, choose its threshold, measure it, save it.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", metavar="DIR", help="models folder to read the cnn from and save the gate to "
                        "(default: your models; --models models in a checkout refreshes the shipped gate)")
    parser.add_argument("--measure", action="store_true",
                        help="only measure the saved gate, beside the cnn model's own confidence")
    args = parser.parse_args(argv)
    if args.measure:
        gate = load_gate(args.models) or parser.error("no saved gate: run without --measure first")
        cnn = load_model("cnn", directory=args.models)
        own = lambda images: cnn.predict_proba(images).max(axis=1)  # noqa: E731
        own_threshold = choose_threshold(own)
        _print(f"the cnn's own confidence, threshold {own_threshold:.4f}:", measure(own, own_threshold))
        for title, level in (("", gate.threshold), (" for digits cut out of photos", gate.photo_threshold)):
            _print(f"the digit gate{title}, threshold {level:.4f}:", measure(gate.score, level))
        return
    start = time.perf_counter()
    images, target = training_set(args.seed)
    pipeline = make_gate(args.seed).fit(images, target)
    fit_seconds = time.perf_counter() - start
    score = partial(digit_score, pipeline)
    threshold, frame_threshold = choose_threshold(score), choose_frame_threshold(score)
    rows = measure(score, threshold)
    _print(f"the digit gate, threshold {threshold:.4f} (in photos {frame_threshold:.4f}):", rows)
    folder = Path(args.models) if args.models else models_dir()  # saved with the user's models (never the package)
    path = save_model(pipeline, GATE_NAME, directory=folder / GATE_FOLDER, metadata={
        "pipeline": "digit gate (workbench.gate_training)",
        "description": "The digit gate: a network that tells digits from letters, scribbles and marks, in front of "
                       "every model.",
        "threshold": threshold, "frame_threshold": frame_threshold,
        "refuse_digits": REJECT_DIGITS, "refuse_frame_digits": REJECT_FRAME_DIGITS,
        "measured": rows, "training_data": {"n": int(len(target)), "digits": int(target.sum())},
        "fit_seconds": round(fit_seconds, 1), "command": "python -m workbench.gate_training"})
    print(f"fit and data {fit_seconds:.0f} s; saved {path}")


if __name__ == "__main__":
    main()

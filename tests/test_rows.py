"""A number never loses a digit: a mark the digit gate refuses in a row of digits keeps its
place as "?", while marks apart from the digits are left out (workbench.live.reading)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from workbench.live.reading import Digit, Reading, marks_in_rows
from workbench.synth import _in_a_line, _scan_glyph, row_with_a_mark, scanned_dark


def _reading(*marks) -> Reading:
    """A reading of marks ``(x, y, w, h, label or None, refused, line)``."""
    digits = [Digit((x, y, w, h), label, 0.9 if label is not None else 0.5, np.full(10, 0.1),
                    np.zeros((28, 28), np.uint8), refused=refused, line=line)
              for x, y, w, h, label, refused, line in marks]
    return Reading(digits, "m", "0" * 64, 0.0)


def test_the_row_rule():
    def row(*middle):  # 8 _ 1 0 on one line, digits 40 high, 10 apart
        return [(0, 0, 30, 40, 8, False, 0), *middle, (80, 0, 30, 40, 1, False, 0), (120, 0, 30, 40, 0, False, 0)]

    in_row = _reading(*row((40, 2, 30, 38, None, True, 0)))
    assert in_row.text == "8?10" and in_row.refused == 1 and marks_in_rows(in_row.digits) == {1}
    assert in_row.summary() == "8?10   (1 mark refused: not a digit; shown as ?)"
    assert in_row.to_json()["digits"][1] == {"label": None, "confidence": 0.5, "box": [40, 2, 30, 38],
                                             "refused": "not a digit", "in_row": True}
    # two refused side by side both keep their places
    assert _reading(*row((35, 0, 20, 40, None, True, 0), (57, 0, 20, 40, None, True, 0))).text == "8??10"
    # a speck, a mark far above the line, or far to the right is not part of the number
    for apart in [(40, 15, 8, 8, None, True, 0), (40, 60, 30, 40, None, True, 0), (400, 0, 30, 40, None, True, 0),
                  (40, 0, 30, 90, None, True, 0)]:
        reading = _reading(*row(apart))
        assert reading.text == "810" and reading.summary() == "810   (1 mark refused: not a digit)"
    # a line of refused marks alone (a word) is left out, and a lone refused mark is said
    assert _reading(*row(), (0, 100, 30, 40, None, True, 1), (40, 100, 30, 40, None, True, 1)).text == "810"
    alone = _reading((0, 0, 30, 40, None, True, 0))
    assert alone.text == "" and alone.summary() == "(no digits found; 1 mark refused: not a digit)"
    assert _reading().summary() == "(no digits found)"


@pytest.fixture(scope="module")
def predictor():
    from workbench.live.predictor import Predictor

    predictor = Predictor("cnn")
    yield predictor
    predictor.close()


def test_a_number_with_a_letter_or_a_scribble_in_it_keeps_its_length(predictor, mnist_small):
    """Rows of five MNIST test digits, one replaced by a letter or a scribble, scanned dark on
    light: every reading has five characters, the refused ones "?" in their place."""
    _, _, X_test, y_test = mnist_small
    rng = np.random.default_rng(0)
    refused_in_place = 0
    for n in range(24):
        kind = ("handwritten letter", "scribble")[n % 2]
        scan, _, odd = row_with_a_mark(X_test, rng, kind)
        reading = predictor.read_frame(scan)
        assert len(reading.text) == 5, (n, kind, reading.text, [d.refused for d in reading.digits])
        if reading.digits[odd].refused:
            assert reading.text[odd] == "?"
            refused_in_place += 1
    assert refused_in_place >= 12  # the gate refused at least half of the marks, and each kept its place


def test_digits_written_touching_are_read_apart(predictor, mnist_small, monkeypatch):
    """Pairs of MNIST test digits written touching (the second overlapping the first by a few
    pixels), scanned dark on light: cutting blobs the model is unsure of where the model reads
    the pieces surely (workbench.live.touching) puts more digits in their place than reading
    each blob whole, and never makes a number longer than written."""
    from workbench.live import touching

    _, _, X_test, y_test = mnist_small
    rng = np.random.default_rng(1)
    rows = []
    for _ in range(40):
        picked = rng.choice(len(X_test), 2, replace=False)
        height = int(rng.integers(48, 96))
        glyphs = [_scan_glyph(cv2.resize(X_test[i], (112, 112), interpolation=cv2.INTER_CUBIC), height) for i in picked]
        ink = _in_a_line(glyphs, -int(0.04 * height), rng, (3 * height, 5 * height), height // 2)
        rows.append((scanned_dark(ink, rng),
                     "".join(str(y_test[i]) for i in picked)))

    def in_place():
        readings = [(predictor.read_frame(scan).text, truth) for scan, truth in rows]
        assert all(len(text) <= len(truth) for text, truth in readings), readings
        return sum(a == b for text, truth in readings if len(text) == len(truth)
                   for a, b in zip(text, truth, strict=True))

    cut = in_place()
    monkeypatch.setattr(touching, "MIN_WIDTH", float("inf"))
    whole = in_place()
    assert cut >= whole + 6, (cut, whole)  # 40 against 30 of the 80 digits when written

"""Refusing what is not a digit: the non-digit fixtures, the shipped digit gate on a small
sample (its measured rates must hold), and the Predictor refusing through it."""

import cv2
import numpy as np
import pytest

from workbench import load_mnist
from workbench.gate_training import non_digit_sample
from workbench.live.gate import GATE_NAME, gate_dir, load_gate
from workbench.live.predictor import Predictor, load_active
from workbench.synth import NON_DIGITS, non_digit

pytestmark = pytest.mark.skipif(not (gate_dir() / f"{GATE_NAME}.json").exists(),
                                reason="no digit gate saved (python -m workbench.gate_training)")


@pytest.fixture(scope="module")
def gate():
    return load_gate()


def test_every_kind_of_non_digit_is_drawn(rng):
    for kind in NON_DIGITS:
        canvas, what = non_digit(kind, rng)
        assert canvas.shape == (280, 280) and canvas.dtype == np.uint8 and canvas.max() > 0, kind
        assert what
    with pytest.raises(ValueError, match="unknown kind"):
        non_digit("emoji", rng)


def test_the_gate_keeps_digits_and_refuses_non_digits(gate):
    """A small sample of what the benchmark measures (README: 0.5% of digits refused at most;
    printed letters and marks accepted under 5%): with a margin for the sample's size."""
    X, _ = load_mnist("test")
    digits_refused = np.mean(gate.refuses(X[5000:5600]))
    assert digits_refused <= 0.02
    images, kinds = non_digit_sample(60, seed=7)
    accepted = ~gate.refuses(images)
    for kind in ("letter", "marks"):
        assert accepted[kinds == kind].mean() <= 0.15, kind
    assert accepted.mean() <= 0.3


def test_the_predictor_refuses_a_scribble_that_the_model_alone_calls_a_digit(gate):
    images, kinds = non_digit_sample(40, seed=11)
    scribbles = images[kinds == "scribble"]
    model = load_active("cnn")
    plain, gated = Predictor(model, gate=False), Predictor(model)
    try:
        assert gated.gate is not None and plain.gate is None
        canvases = [np.kron(image, np.ones((10, 10), np.uint8)) for image in scribbles]
        read_plain = [plain.read_canvas(c) for c in canvases]
        read_gated = [gated.read_canvas(c) for c in canvases]
    finally:
        plain.close()
        gated.close()
    refused = [r.digits[0] for r in read_gated if r.digits[0].refused]
    assert len(refused) >= len(canvases) // 2
    assert all(d.label is None and r.text == "" for r in read_gated for d in r.digits if d.refused)
    assert sum(r.digits[0].label is not None for r in read_plain) > sum(r.digits[0].label is not None
                                                                         for r in read_gated)


def test_the_normaliser_the_model_and_the_gate_share_runs_once_with_the_same_result(gate, monkeypatch):
    """The cnn and the gate both start with MnistNormalize: the Predictor runs it once for both,
    and every probability and refusal is what each pipeline gives on its own."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench.live.predictor import _same_start
    from workbench.transforms import MnistNormalize

    model = load_active("cnn")
    assert _same_start(model.pipeline, gate.pipeline)
    assert not _same_start(load_active("logreg").pipeline, gate.pipeline)  # a different first step
    assert not _same_start(make_pipeline(MnistNormalize(box=18), StandardScaler()), gate.pipeline)  # other parameters
    scaled = make_pipeline(StandardScaler(), StandardScaler())
    assert not _same_start(scaled, scaled)  # the same step, but one that learns from its data
    calls = []
    original = MnistNormalize.transform
    monkeypatch.setattr(MnistNormalize, "transform", lambda self, X: calls.append(1) or original(self, X))
    X, _ = load_mnist("test", subset=300)
    canvases = [non_digit(kind, np.random.default_rng(i))[0] for i, kind in enumerate(NON_DIGITS)]
    predictor = Predictor(model)
    try:
        for images in (X[:7], np.stack([cv2.resize(c, (28, 28), interpolation=cv2.INTER_AREA) for c in canvases])):
            calls.clear()
            digits = predictor._read([(0, 0, 28, 28)] * len(images), list(images), 0.0).digits
            assert len(calls) == 1
            np.testing.assert_allclose([d.probabilities for d in digits], model.pipeline.predict_proba(images),
                                       rtol=1e-6, atol=1e-7)
            assert [d.refused for d in digits] == list(gate.score(images) < gate.threshold)
    finally:
        predictor.close()


def test_a_models_folder_without_a_gate_reads_everything(tmp_path):
    assert load_gate(tmp_path) is None


@pytest.mark.parametrize("brush", [6, 18, 30])
def test_a_straight_mouse_one_is_a_digit(gate, brush):
    """The 1 a mouse draws, one straight vertical stroke, is kept (an earlier gate refused it)."""
    import cv2

    from workbench.live.canvas import read_canvas

    canvas = np.zeros((280, 280), np.uint8)
    cv2.line(canvas, (140, 56), (140, 226), 255, brush, cv2.LINE_AA)
    assert gate.score(read_canvas(canvas)[None])[0] >= gate.threshold

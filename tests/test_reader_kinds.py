"""The frame reader (what ``workbench predict`` and the camera panel use) on a small sample of
every kind of input it must read, made from MNIST *test* digits and fonts, written to files and
read back the way ``workbench predict`` reads them, each kind with the accuracy it must keep.

The sample is small (seconds); ``benchmarks/live.py`` measures the same kinds on 300 images
each. The thresholds sit below what this exact sample scores today, so that a regression in
segmentation fails here, while the benchmark carries the figures of the README.
"""

import cv2
import numpy as np
import pytest

from workbench import load_mnist
from workbench.cli import main
from workbench.live.images import read_image
from workbench.live.predictor import Predictor, load_active
from workbench.printed import font_names
from workbench.synth import closeup, drawn_number, large_number, printed, redraw, render_page

N = 40  # images of each kind


@pytest.fixture(scope="module")
def predictor():
    predictor = Predictor(load_active("cnn"))
    yield predictor
    predictor.close()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    """``{kind: [(path, text), ...]}``: N files of each kind, seeded."""
    folder = tmp_path_factory.mktemp("kinds")
    X, y = load_mnist("test")
    rng = np.random.default_rng(123)
    fonts = font_names(include_system=False)  # OpenCV's and Pillow's own: the same on every machine
    out = {kind: [] for kind in ("drawings", "printed", "closeups", "numbers", "pages", "drawn_numbers")}
    for k in range(N):
        i = int(rng.integers(len(X)))
        path = folder / f"drawing{k}.png"
        cv2.imwrite(str(path), redraw(X[i], rng))
        out["drawings"].append((path, str(y[i])))
        label = int(rng.integers(10))
        path = folder / f"printed{k}.png"
        cv2.imwrite(str(path), printed(label, rng, fonts=fonts)[0])
        out["printed"].append((path, str(label)))
        i = int(rng.integers(len(X)))
        path = folder / f"closeup{k}.jpg"
        cv2.imwrite(str(path), closeup(X[i], rng)[0], [cv2.IMWRITE_JPEG_QUALITY, 90])
        out["closeups"].append((path, str(y[i])))
        idx = rng.choice(len(X), int(rng.integers(2, 5)), replace=False)
        path = folder / f"number{k}.jpg"
        cv2.imwrite(str(path), large_number(X[idx], rng), [cv2.IMWRITE_JPEG_QUALITY, 90])
        out["numbers"].append((path, "".join(map(str, y[idx]))))
        idx = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        page = render_page(X[idx], y[idx], rng)
        path = folder / f"page{k}.jpg"
        cv2.imwrite(str(path), page.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        out["pages"].append((path, "".join(map(str, page.labels))))
    rng = np.random.default_rng(124)  # its own stream: the kinds above kept their samples
    for k in range(N):
        idx = rng.choice(len(X), int(rng.integers(2, 5)), replace=False)
        path = folder / f"drawn_number{k}.png"
        cv2.imwrite(str(path), drawn_number(X[idx], rng))
        out["drawn_numbers"].append((path, "".join(map(str, y[idx]))))
    return out


# The share of images read exactly right that each kind must keep (on this sample of 40).
MUST_READ = {"drawings": 0.9, "printed": 0.9, "closeups": 0.8, "numbers": 0.85, "pages": 0.85, "drawn_numbers": 0.85}


@pytest.mark.parametrize("kind", sorted(MUST_READ))
def test_each_kind_of_input_is_read_through_the_predict_path(kind, samples, predictor):
    texts = [(predictor.read_frame(read_image(path)).text, truth) for path, truth in samples[kind]]
    right = np.mean([text == truth for text, truth in texts])
    wrong = [f"{truth} read as {text or 'nothing'}" for text, truth in texts if text != truth]
    print(f"{kind}: {right:.0%} exactly right; misread: {wrong}")
    assert right >= MUST_READ[kind], wrong


def test_a_drawing_reads_the_same_through_predict_and_the_canvas(samples, predictor):
    """The draw panel (read_canvas) and `workbench predict` (read_frame) agree on drawings."""
    agree = np.mean([predictor.read_frame(read_image(p)).text == predictor.read_canvas(read_image(p)).text
                     for p, _ in samples["drawings"]])
    assert agree >= 0.9


def test_a_digit_drawn_in_pieces_is_one_digit_and_a_drawn_number_is_several(tmp_path, predictor):
    """A drawing is read as one digit unless its pieces stand side by side like the digits of a
    number. MNIST test digits whose strokes do not touch, re-drawn on the canvas: the frame
    reader used to read this 5 as "16?" and "?4", the 9 as "61", the 1 with a speck as "11",
    the 5 with its bar apart as "1" and the 4 as "14" and "114"."""
    X, y = load_mnist("test")
    pieces = [6620, 8503, 5661, 694, 4929]
    texts, truth = [], []
    for k, (i, (height, brush)) in enumerate((i, size) for i in pieces for size in ((150, 6), (220, 16))):
        path = tmp_path / f"pieces{k}.png"
        cv2.imwrite(str(path), redraw(X[i], np.random.default_rng(0), height=height, brush=brush, invert=bool(k % 2)))
        texts.append(predictor.read_frame(read_image(path)).text)
        truth.append(str(y[i]))
    number = np.zeros((280, 560), np.uint8)
    cv2.putText(number, "417", (60, 200), cv2.FONT_HERSHEY_SIMPLEX, 5, 255, 14)
    cv2.imwrite(str(tmp_path / "number.png"), number)
    texts.append(predictor.read_frame(read_image(tmp_path / "number.png")).text)
    assert texts == [*truth, "417"]


def test_big_thick_digits_through_the_command(tmp_path, capsys, monkeypatch):
    """The cases that used to fail through `workbench predict`: a thick 0 near the bottom of a
    canvas, a bold printed 8, a digit filling the frame."""
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    zero = np.full((280, 280), 255, np.uint8)
    cv2.ellipse(zero, (140, 200), (45, 62), 0, 0, 360, 0, 28)
    cv2.imwrite(str(tmp_path / "zero.png"), zero)
    eight = np.full((240, 320), 235, np.uint8)
    cv2.putText(eight, "8", (110, 200), cv2.FONT_HERSHEY_DUPLEX, 6, 20, 22, cv2.LINE_AA)
    cv2.imwrite(str(tmp_path / "eight.png"), eight)
    seven = np.full((480, 640), 200, np.uint8)
    cv2.polylines(seven, [np.array([[200, 70], [440, 70], [300, 410]])], False, 30, 70, cv2.LINE_AA)
    cv2.imwrite(str(tmp_path / "seven.jpg"), seven)
    paths = [str(tmp_path / name) for name in ("zero.png", "eight.png", "seven.jpg")]
    assert main(["predict", *paths]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{paths[0]}: 0", f"{paths[1]}: 8", f"{paths[2]}: 7"]

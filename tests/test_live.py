"""The live engine on real MNIST-derived inputs: readers, sources, tracking, Predictor, log, CLI.

Drawings and pages are made from MNIST *test* digits (:mod:`workbench.synth`) and read
with the shipped models (models/cnn and models/logreg), as a user's would be.
"""

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest

from workbench import load_mnist
from workbench.cli import main
from workbench.live.canvas import read_canvas
from workbench.live.frame import drawn, find_digits, reading_order
from workbench.live.images import ImageError, as_gray, read_image
from workbench.live.ink import THICK, THIN, WORK_BOX, ink_to_mnist, normalize_stroke, stroke_width
from workbench.live.log import LogError, PredictionLog
from workbench.live.predictor import Predictor, load_active
from workbench.live.sources import DemoSource, FolderSource, SourceError, VideoSource, open_source
from workbench.live.tracking import DigitTracker
from workbench.store import shipped_dir
from workbench.synth import _camera, _marker, layout, photograph, redraw, render_page


@pytest.fixture(scope="module")
def mnist_test():
    return load_mnist("test")


@pytest.fixture(scope="module")
def cnn():
    return load_active("cnn")


@pytest.fixture(scope="module")
def logreg():
    return load_active("logreg")


@pytest.fixture(scope="module")
def predictor(cnn):
    predictor = Predictor(cnn)
    yield predictor
    predictor.close()


def pages(mnist_test, n, seed):
    X, y = mnist_test
    rng = np.random.default_rng(seed)
    for _ in range(n):
        idx = rng.choice(len(X), int(rng.integers(2, 7)), replace=False)
        yield render_page(X[idx], y[idx], rng)


def demo_video(path, n_frames):
    """An MJPG video of ``n_frames`` demo frames."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    demo = DemoSource(seed=2)
    for _ in range(n_frames):
        writer.write(demo.read())
    writer.release()
    return path


# --- canvas reader ---------------------------------------------------------------------------


def test_empty_or_nearly_empty_canvas_is_nothing_drawn():
    assert read_canvas(np.zeros((280, 280), np.uint8)) is None
    assert read_canvas(np.full((280, 280, 3), 255, np.uint8)) is None
    dot = np.zeros((280, 280), np.uint8)
    cv2.circle(dot, (100, 100), 3, 255, -1)
    assert read_canvas(dot) is None
    noise = np.random.default_rng(0).integers(0, 20, (280, 280)).astype(np.uint8)  # sensor-like, no ink
    assert read_canvas(noise) is None


def test_canvas_polarity_and_colour_do_not_matter(mnist_test):
    canvas = redraw(mnist_test[0][0], np.random.default_rng(0), invert=False)
    white_on_black = read_canvas(canvas)
    assert white_on_black.shape == (28, 28) and white_on_black.dtype == np.uint8
    np.testing.assert_array_equal(read_canvas(255 - canvas), white_on_black)
    np.testing.assert_array_equal(read_canvas(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)), white_on_black)
    rgba = np.zeros((*canvas.shape, 4), np.uint8)  # transparent background, opaque black strokes
    rgba[..., 3] = canvas
    assert np.abs(read_canvas(rgba).astype(int) - white_on_black).max() <= 1


def test_canvas_reader_follows_the_mnist_convention(mnist_test):
    from workbench.transforms import center_of_mass

    rng = np.random.default_rng(1)
    for digit in mnist_test[0][:20]:
        image = read_canvas(redraw(digit, rng))
        rows, cols = np.nonzero(image > 25)
        assert max(np.ptp(rows), np.ptp(cols)) + 1 in range(18, 23)  # fitted into the 20x20 box
        assert np.abs(center_of_mass(image[None])[0] - 14).max() <= 1.0


def test_stroke_width_is_brought_into_mnist_range():
    for brush in (2, 40):  # hairline and marker on a 300-pixel digit
        mask = np.zeros((340, 240), np.uint8)
        cv2.ellipse(mask, (120, 170), (90, 150), 0, 0, 360, 1, brush)
        scaled = cv2.resize(mask, None, fx=WORK_BOX / 340, fy=WORK_BOX / 340, interpolation=cv2.INTER_AREA) > 0
        width = stroke_width(normalize_stroke(np.pad(scaled, 10)))
        assert THIN - 1 <= width <= THICK + 1, (brush, width)
    assert ink_to_mnist(np.zeros((50, 50), np.float32)) is None


def test_thinning_keeps_the_thin_strokes_of_a_digit_whose_loop_the_marker_filled():
    mask = np.zeros((100, 80), np.uint8)
    cv2.circle(mask, (40, 65), 22, 1, -1)  # a 6's loop, filled
    cv2.line(mask, (25, 50), (50, 12), 1, 8)  # its stem, drawn thinner than the blob's "mean width"
    assert stroke_width(mask.astype(bool)) > THICK
    thinned = normalize_stroke(mask.astype(bool))
    assert thinned[12:35, 30:55].sum() > 100  # the stem is still there (erosion alone erased it)


def test_drawings_at_any_size_position_and_brush_are_read_right(predictor, mnist_test):
    X, y = mnist_test
    rng = np.random.default_rng(2)
    picks = rng.choice(len(X), 60, replace=False)
    right = sum(predictor.read_canvas(redraw(X[i], rng)).text == str(y[i]) for i in picks)
    assert right >= 57  # >= 95% on 60 (the benchmark measures 1,000)


# --- frame reader ----------------------------------------------------------------------------


def test_pages_are_found_and_read_in_order(predictor, mnist_test):
    n_true = found = exact = 0
    chalk = 0
    for page in pages(mnist_test, 25, seed=3):
        reading = predictor.read_frame(page.image)
        n_true += len(page.labels)
        for x, y, w, h in page.boxes:
            found += any(b[0] <= x + w / 2 <= b[0] + b[2] and b[1] <= y + h / 2 <= b[1] + b[3]
                         for b in (d.box for d in reading.digits))
        exact += reading.text == "".join(map(str, page.labels))
        chalk += int(np.median(page.image) < 100)
    assert found / n_true >= 0.97
    assert exact >= 21  # of 25
    assert chalk >= 1  # light-on-dark pages were among them


def test_frame_without_digits_reads_nothing(predictor):
    assert find_digits(np.zeros((480, 640, 3), np.uint8)) == []
    assert find_digits(np.full((480, 640), 200, np.uint8)) == []
    noise = np.random.default_rng(0).normal(128, 20, (480, 640)).clip(0, 255).astype(np.uint8)
    assert len(find_digits(noise)) <= 1
    # An empty sheet of paper on a table: its edges are not digits.
    page = photograph(np.zeros((200, 300), np.float32), [], np.random.default_rng(0), tilt=8)
    assert predictor.read_frame(page.image).digits == []


def test_huge_frames_are_read_at_bounded_size(predictor, mnist_test):
    page = next(pages(mnist_test, 1, seed=4))
    big = cv2.resize(page.image, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)  # 2560x1920
    small, large = predictor.read_frame(page.image), predictor.read_frame(big)
    assert large.text == small.text
    for a, b in zip(small.digits, large.digits, strict=True):
        assert np.allclose(np.array(b.box) / 4, a.box, atol=3)


def test_reading_order_follows_lines_of_a_tilted_page():
    # Two lines of three, tilted so that line 1's last digit sits higher than line 0's first.
    boxes = [(100 + 60 * i, 100 - 20 * i, 40, 50) for i in range(3)] + [(110 + 60 * i, 190 - 20 * i, 40, 50)
                                                                       for i in range(3)]
    shuffled = [boxes[i] for i in (4, 0, 5, 2, 3, 1)]
    assert [shuffled[i] for i in reading_order(shuffled)] == boxes


def test_reading_order_keeps_a_steeply_tilted_line_whole():
    # Boxes the reader found on a page tilted ~20 degrees (read as "916" when each line had to
    # overlap its last box by 40% in height), and one whose handwriting wanders up and down.
    steep = [(333, 182, 40, 52), (152, 216, 17, 60), (234, 179, 34, 57)]
    assert reading_order(steep) == [1, 2, 0]
    wandering = [(98, 210, 23, 34), (157, 196, 27, 32), (223, 205, 27, 39), (296, 194, 27, 38)]
    assert reading_order(wandering[::-1]) == [3, 2, 1, 0]


def test_a_drawing_reads_a_digit_touching_its_edge(predictor):
    canvas = np.full((280, 280), 255, np.uint8)  # a saved drawing: flat background
    cv2.line(canvas, (120, 60), (279, 60), 0, 16)  # a 7 whose bar runs off the right edge
    cv2.line(canvas, (250, 60), (170, 250), 0, 16)
    photo = cv2.subtract(canvas, np.random.default_rng(0).integers(0, 9, canvas.shape, np.uint8))
    assert drawn(canvas) and not drawn(photo)
    assert predictor.read_frame(canvas).text == "7"
    thin = np.full((280, 280), 255, np.uint8)
    cv2.line(thin, (140, 40), (140, 250), 0, 3)  # a 1 drawn with a pencil: under 1% of the canvas
    assert predictor.read_frame(thin).text == "1"


def test_pen_dots_beside_a_digit_are_not_digits():
    page = np.full((240, 320), 225, np.uint8)
    cv2.putText(page, "9", (120, 170), cv2.FONT_HERSHEY_SIMPLEX, 4, 30, 10)
    for centre in ((95, 60), (215, 120), (110, 190)):  # dots as wide as the stroke
        cv2.circle(page, centre, 7, 30, -1)
    assert len(find_digits(page)) == 1


def test_a_flat_digit_held_up_in_perspective_is_found():
    """A 5 more than twice as wide as high (an MNIST 5 in perspective measured 2.2) is a digit."""
    glyph = np.zeros((120, 100), np.uint8)
    cv2.putText(glyph, "5", (10, 105), cv2.FONT_HERSHEY_SIMPLEX, 3.5, 255, 7, cv2.LINE_AA)
    rows, cols = np.flatnonzero(glyph.max(1)), np.flatnonzero(glyph.max(0))
    flat = cv2.resize(glyph[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], (230, 100)).astype(np.float32)
    photo = np.full((480, 640), 190, np.float32) + np.random.default_rng(0).normal(0, 4, (480, 640))
    photo[60:160, 40:270] -= 0.6 * flat
    assert [c.box[2] / c.box[3] > 2 for c in find_digits(np.clip(photo, 0, 255).astype(np.uint8))] == [True]


def test_a_hole_the_threshold_left_in_a_bold_stroke_is_filled_and_a_counter_is_not():
    # The local threshold's window, small next to an ultra-bold stroke, can leave the stroke's
    # middle out of the piece: a bold 7 with such a hole was thinned into a loop (read 9).
    from workbench.live.segment import fill_inked_holes

    piece = np.zeros((60, 60), bool)
    piece[10:50, 10:50] = True
    piece[25:35, 25:35] = False  # a hole in the middle of the piece
    crop = np.where(piece, 230, 20).astype(np.uint8)
    inked, counter, shadowed = crop.copy(), crop.copy(), crop.copy()
    inked[25:35, 25:35] = 228  # the stroke's own ink: the hole is a threshold's artefact
    shadowed[25:35, 25:35] = 180  # above the level, but fainter than the strokes: a shadowed counter
    level = 125
    assert fill_inked_holes(piece, inked, level)[25:35, 25:35].all()
    assert not fill_inked_holes(piece, counter, level)[25:35, 25:35].any()
    assert not fill_inked_holes(piece, shadowed, level)[25:35, 25:35].any()
    ring = np.zeros((60, 60), bool)
    ring[10:50, 10:50] = True
    ring[:, 25:35] = False  # paper joined to the box's edge is no hole, however inked
    assert np.array_equal(fill_inked_holes(ring, np.full((60, 60), 230, np.uint8), level), ring)


def test_a_fives_bar_standing_apart_joins_it_and_two_digits_stay_two():
    # A close-up 5 (fixture closeups/0215): body 172 x 145 pixels, its bar 133 x 37 above and
    # to the right; together 1.8 times as wide as high, more than the 1.6 digit heights that
    # two pieces of one digit were allowed. The 5 was read without its bar (unsure).
    from workbench.live.segment import merge_pieces

    body, bar = [64, 136, 236, 281, 2], [199, 129, 332, 166, 1]
    assert merge_pieces([bar, body], 145) == [[64, 129, 332, 281, 1, 2]]
    # Two whole digits side by side, touching, stay two: only a part less than half a digit
    # high may widen the box.
    left, right = [0, 0, 130, 145, 1], [128, 0, 258, 145, 2]
    assert len(merge_pieces([left, right], 145)) == 2


@pytest.mark.parametrize("angle", [30, 330])
@pytest.mark.parametrize("light", [0.6, 0.8])
def test_a_sheet_lit_unevenly_is_not_read_as_a_digit(predictor, mnist_test, angle, light):
    # A page on a dark table whose light falls off by half across it (fixture pages/0113): the
    # coarse pass took the brighter part of the sheet as one large light digit around the two
    # written ones (solidity 0.67, under the 0.93 that marks a whole sheet) and read "2" or
    # nothing instead of "71".
    X, y = mnist_test
    rng = np.random.default_rng(0)
    sheet, boxes = layout(X[[0, 2]], rng, line_lengths=[2], digit_px=80)
    page = photograph(sheet, boxes, rng, light=light, gradient=0.5, gradient_angle=angle, tilt=4, blur=0.8,
                      noise=0.02)
    assert predictor.read_frame(page.image).text == f"{y[0]}{y[2]}"


def test_a_digit_held_up_with_a_shadow_over_the_frames_border_is_read(predictor, mnist_test):
    # A marker digit on paper, a hand's shadow (half as bright) over the lower part of the frame:
    # the border is mostly shadowed paper, so the lit paper looked like light ink, and the coarse
    # pass read it instead of the digit (fixture closeups/0255 of seed 1: a 5 read 7). The ink is
    # the side that stays clear of the frame's border.
    X, y = mnist_test
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    right = 0
    for i in range(20):
        digit = cv2.resize(X[i], (300, 300), interpolation=cv2.INTER_CUBIC) > 127
        ink = np.zeros((480, 640), np.float32)
        ink[90:390, 170:470] = cv2.dilate(digit.astype(np.uint8), np.ones((15, 15), np.uint8))
        for angle in np.deg2rad([200, 240]):
            edge = (xx - 384) * np.cos(angle) + (yy - 288) * np.sin(angle)
            image = (0.85 - 0.73 * ink) * (1 - 0.5 / (1 + np.exp(-edge / 5)))
            image = cv2.GaussianBlur(image, (0, 0), 1.0) + np.random.default_rng(i).normal(0, 0.01, image.shape)
            right += predictor.read_frame(np.clip(image * 255, 0, 255).astype(np.uint8)).text == str(y[i])
    assert right >= 34  # of 40; 36 now, 23 when the border's side was taken as the paper


def _pen_digit_under_a_shadow(digit: np.ndarray, seed: int) -> np.ndarray:
    """A digit written with a pen (strokes 3-8% of its height), held up close on paper whose
    light falls off across the frame, a soft shadow's edge crossing the digit's box."""
    rng = np.random.default_rng(seed)
    glyph = _marker(digit, rng, int(rng.uniform(0.4, 0.8) * 480), rng.uniform(0.03, 0.08))
    gh, gw = glyph.shape
    top, left = int(rng.integers(20, 480 - gh - 19)), int(rng.integers(20, 640 - gw - 19))
    ink = np.zeros((480, 640), np.float32)
    ink[top : top + gh, left : left + gw] = glyph
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - 320) * np.cos(angle) + (yy - 240) * np.sin(angle)) / 640
    image = (0.85 - 0.7 * ink) * (1 - rng.uniform(0.2, 0.5) * (ramp + 0.5))
    angle = rng.uniform(0, 2 * np.pi)
    edge = (xx - left - gw * rng.uniform()) * np.cos(angle) + (yy - top - gh * rng.uniform()) * np.sin(angle)
    image = image * (1 - rng.uniform(0.3, 0.5) / (1 + np.exp(-edge / rng.uniform(5, 40))))
    image = cv2.GaussianBlur(image, (0, 0), 1.0) + rng.normal(0, 0.015, image.shape)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def test_a_pen_digit_with_a_shadow_over_part_of_its_margin_is_read(predictor, mnist_test):
    # Fixture closeups/0218 of seed 1 (a thin 5, light falling off, a shadow's edge beside it)
    # was not found at all: around the digit the shadowed paper was as dark as the fine pass
    # allows a digit's surroundings to be, and in the coarse pass the shadow's edge joined the
    # stroke. Measured against the paper around it (strokes opened away), the stroke stands out.
    X, y = mnist_test
    right = sum(predictor.read_frame(_pen_digit_under_a_shadow(X[i], i)).text == str(y[i]) for i in range(60))
    assert right >= 58  # of 60; 59 now, 56 before the shadow-aware margin test


def _bold_digit_across_a_shadows_edge(digit: np.ndarray, seed: int) -> np.ndarray:
    """A large digit written with a marker (strokes 10-18% of its height) held up close, a hard
    shadow's edge across the whole frame crossing its upper part."""
    rng = np.random.default_rng(seed)
    size = int(rng.uniform(0.6, 0.85) * 480)
    pen = int(rng.uniform(0.1, 0.18) * size)
    glyph = np.pad(cv2.resize(digit, (size - pen, size - pen), interpolation=cv2.INTER_CUBIC) > 127, pen // 2)
    glyph = cv2.dilate(glyph.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    top, left = (480 - size) // 2, int(rng.integers(20, 640 - size - 19))
    ink = np.zeros((480, 640), np.float32)
    ink[top : top + glyph.shape[0], left : left + glyph.shape[1]] = glyph
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    edge = yy - top - size * rng.uniform(0.15, 0.4) - rng.uniform(-0.15, 0.15) * (xx - 320)
    shade = 1 / (1 + np.exp(np.clip(edge / rng.uniform(1, 4), -50, 50)))  # 1 above the edge, 0 below
    image = (0.85 - 0.7 * ink) * (1 - rng.uniform(0.3, 0.5) * shade)
    image = cv2.GaussianBlur(image, (0, 0), 1.0) + rng.normal(0, 0.015, image.shape)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


def test_a_bold_digit_across_a_hard_shadows_edge_is_read(predictor, mnist_test):
    # Fixture close-ups 0299 of seed 1 (a bold 4) and 0259 of seed 0 (a bold 2), a hard shadow
    # across the frame's top, were not found at all: the coarse pass's paper estimate bridges
    # the edge, the shadowed paper became "ink" joined to the digit and reaching the border.
    # With the ink in three levels (paper, shadow, strokes), the strokes are the upper one.
    X, y = mnist_test
    right = sum(predictor.read_frame(_bold_digit_across_a_shadows_edge(X[i], i)).text == str(y[i])
                for i in range(60))
    assert right >= 52  # of 60; 55 now, 42 with the ink in two levels only


def test_a_light_digit_mostly_in_shadow_is_read_whole(predictor, mnist_test):
    # Fixture close-ups 0247 of seed 0: a light 1 on a dark board, in shadow but for its foot,
    # read 8: the digit's own threshold (Otsu within its box) split its pixels by the light, and
    # the lit foot alone was the "digit". When that level keeps under half of the piece, the
    # piece (thresholded against its neighbourhood) is the digit.
    X, y = mnist_test
    yy, xx = np.mgrid[0:480, 0:640].astype(np.float32)
    right = 0
    for i in range(60):
        rng = np.random.default_rng(i)
        glyph = _marker(X[i], rng, int(rng.uniform(0.5, 0.8) * 480), rng.uniform(0.08, 0.2))
        gh, gw = glyph.shape
        top, left = (480 - gh) // 2, int(rng.integers(20, max(21, 640 - gw - 19)))
        ink = np.zeros((480, 640), np.float32)
        ink[top : top + gh, left : left + gw] = glyph
        edge = yy - top - gh * rng.uniform(0.75, 0.9) - rng.uniform(-0.3, 0.3) * (xx - left - gw / 2)
        lit = 1 / (1 + np.exp(np.clip(-edge / rng.uniform(2, 6), -50, 50)))  # 1 below the edge
        image = (0.2 + 0.65 * ink) * (1 - rng.uniform(0.4, 0.6) * (1 - lit))
        image = cv2.GaussianBlur(image, (0, 0), 1.0) + rng.normal(0, 0.015, image.shape)
        right += predictor.read_frame(np.clip(image * 255, 0, 255).astype(np.uint8)).text == str(y[i])
    assert right >= 57  # of 60; 59 now, 54 when the digit's own level split it by the light


def test_a_speck_beside_a_large_bold_digit_does_not_hide_it(predictor, mnist_test):
    # MNIST test digit 6956, a 9 with a speck by its stem, written large with a marker (fixture
    # close-ups 0148 of seed 0 and 0091 of seed 2): where the fine pass did not see the bold 9
    # whole, it kept the speck, and the coarse pass's 9 was dropped because a fine finding lay
    # inside its box (the speck, read as a refused "digit"; or a 0). A round solid dot under
    # 0.4 of a large digit's height inside its box is a speck.
    X, y = mnist_test
    right = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        glyph = _marker(X[6956], rng, int(rng.uniform(0.6, 0.85) * 480), rng.uniform(0.15, 0.25))
        gh, gw = glyph.shape
        ink = np.zeros((480, 640), np.float32)
        top, left = (480 - gh) // 2, int(rng.integers(20, 640 - gw - 19))
        ink[top : top + gh, left : left + gw] = glyph
        right += predictor.read_frame(_camera(ink, rng)).text == str(y[6956])
    assert right >= 56  # of 60; 57 now, 55 when the speck hid the digit


@pytest.mark.parametrize("gap", [8, 14])
@pytest.mark.parametrize("upper", [0.65, 0.72])
def test_a_large_digit_written_in_two_strokes_that_do_not_touch_is_one_digit(predictor, gap, upper):
    # A marker 3 whose lower bowl stands ``gap`` pixels apart from its upper part (fixture
    # closeups/0272 of seed 1): with the two pieces' median height as a digit's height, the
    # whole 3 (400 px) was more than 1.6 "digit heights" and was read "72" or "7?". One large
    # digit sets the height: the tallest piece that looks like a digit.
    frame = np.full((480, 640), 215, np.uint8)
    top = int(400 * upper)
    cv2.ellipse(frame, (320, 40 + top // 2), (90, top // 2 - 15), 0, -160, 90, 30, 30)
    low = 400 - top - gap
    cv2.ellipse(frame, (320, 40 + top + gap + low // 2), (110, low // 2 - 15), 0, -90, 160, 30, 30)
    frame = cv2.GaussianBlur(frame, (0, 0), 1.0)
    frame = (frame + np.random.default_rng(0).normal(0, 3, frame.shape)).clip(0, 255).astype(np.uint8)
    assert predictor.read_frame(frame).text == "3"


def ultra_bold(text, font, height, dark):
    """``text`` printed in a DejaVu ``font`` at three times its weight, about ``height`` pixels
    high (at most 220), in the middle of a 320x240 image, dark on light paper or light on dark."""
    from workbench.printed import render_glyph

    glyph = render_glyph(text, f"/usr/share/fonts/truetype/dejavu/{font}.ttf", height, 3.0).astype(np.float32) / 255
    if glyph.shape[0] > 220:
        glyph = cv2.resize(glyph, (glyph.shape[1] * 220 // glyph.shape[0], 220))
    paper, mark = (0.92, 0.1) if dark else (0.08, 0.95)
    image = np.full((240, 320), paper, np.float32)
    top, left = (240 - glyph.shape[0]) // 2, (320 - glyph.shape[1]) // 2
    image[top : top + glyph.shape[0], left : left + glyph.shape[1]] += (mark - paper) * glyph
    image += np.random.default_rng(0).normal(0, 0.02, image.shape).astype(np.float32)
    return np.clip(image * 255, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("font", ["DejaVuSerif-Bold", "DejaVuSans-Bold"])
@pytest.mark.parametrize("dark", [True, False])
def test_an_ultra_bold_8_is_not_read_as_its_two_holes(predictor, font, dark):
    # Printed at three times the font's weight, the 8's counters shrink to slits (fixture
    # printed/0049 of seed 1): its blob is as solid as a sheet (solidity 0.97), so the holes,
    # which the fine pass sees as light digits, were read instead ("11" or "4"). A sheet holds
    # strokes; these are convex blobs.
    assert predictor.read_frame(ultra_bold("8", font, 120, dark)).text == "8"


@pytest.mark.parametrize("height", [150, 200])
def test_an_ultra_bold_4_is_not_taken_for_a_blot(predictor, height):
    # DejaVu Sans Bold at three times its weight: the 4's deepest point lies 0.31 of its size
    # from the paper (fixture printed/0195 of seed 1), over the 0.3 that marked a blot.
    assert predictor.read_frame(ultra_bold("4", "DejaVuSans-Bold", height, dark=True)).text == "4"


def test_unsure_digits_are_not_guessed(cnn, mnist_test):
    frame = next(pages(mnist_test, 1, seed=5)).image
    confidences = sorted({d.confidence for d in Predictor(cnn).read_frame(frame).digits})
    assert len(confidences) >= 2
    threshold = confidences[-1]  # only the most confident digits are read; the rest are unsure
    strict = Predictor(cnn, threshold=threshold)
    reading = strict.read_frame(frame)
    assert any(d.label is None for d in reading.digits) and any(d.label is not None for d in reading.digits)
    for d in reading.digits:
        assert (d.label is None) == (d.confidence < threshold)
    assert reading.text.count("?") == sum(d.label is None for d in reading.digits)
    assert all(0 < d.confidence <= 1 and d.probabilities.shape == (10,) for d in reading.digits)
    strict.close()


# --- sources and tracking --------------------------------------------------------------------


def test_demo_source_is_a_camera_anyone_can_run(predictor):
    with DemoSource(seed=0) as source:
        frames = [source.read() for _ in range(12)]
        labels = list(source.labels)
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[11])  # it moves
    with DemoSource(seed=0) as again:
        np.testing.assert_array_equal(again.read(), frames[0])  # and is reproducible
    texts = [predictor.read_frame(f).text for f in frames]
    assert sum(t == "".join(map(str, labels)) for t in texts) >= 10


def test_tracker_keeps_labels_stable(predictor):
    source = DemoSource(seed=1)
    tracker = DigitTracker(predictor.active.pipeline.classes_, window=5)
    readings = [predictor.read_frame(source.read()) for _ in range(6)]
    for reading in readings[:5]:
        tracker.update(reading)
    # Corrupt one frame: the first digit's probabilities point to another class.
    first = readings[5].digits[0]
    wrong = np.roll(first.probabilities, 3)
    from dataclasses import replace

    corrupted = replace(readings[5], digits=[replace(first, probabilities=wrong), *readings[5].digits[1:]])
    smoothed = tracker.update(corrupted)
    assert smoothed.digits[0].label == readings[4].digits[0].label
    assert len(smoothed.digits) == len(readings[5].digits)
    for _ in range(4):  # digits that leave the picture are forgotten
        tracker.update(replace(readings[5], digits=[]))
    assert tracker._tracks == []


def test_sources_from_specs(tmp_path, mnist_test):
    assert isinstance(open_source("demo"), DemoSource)
    with pytest.raises(SourceError, match="camera 99"):
        open_source("99")
    with pytest.raises(SourceError, match="no camera source"):
        open_source(str(tmp_path / "missing"))
    # A folder of images: unreadable files are skipped and reported.
    folder = tmp_path / "shots"
    folder.mkdir()
    page = next(pages(mnist_test, 1, seed=6))
    cv2.imwrite(str(folder / "a.png"), page.image)
    (folder / "b.png").write_bytes(b"not an image")
    cv2.imwrite(str(folder / "c.png"), cv2.cvtColor(page.image, cv2.COLOR_BGR2GRAY))
    source = open_source(str(folder))
    assert isinstance(source, FolderSource)
    frames = list(source)
    assert len(frames) == 2 and all(f.shape == page.image.shape for f in frames)
    assert len(source.errors) == 1 and "b.png" in source.errors[0]
    # A video file plays to its end.
    video = demo_video(tmp_path / "clip.avi", 5)
    with open_source(str(video)) as source:
        assert isinstance(source, VideoSource)
        assert len(list(source)) == 5
    (tmp_path / "notes.txt").write_text("not a video")
    with pytest.raises(SourceError, match="cannot open video"):
        open_source(str(tmp_path / "notes.txt"))
    assert len(list(open_source(str(folder / "a.png")))) == 1  # one image is a folder of one


# --- Predictor -------------------------------------------------------------------------------


def test_model_swap_at_runtime(cnn, mnist_test):
    predictor = Predictor(cnn)
    page = next(pages(mnist_test, 1, seed=7))
    assert predictor.read_frame(page.image).model == "cnn"
    swapped = predictor.swap("logreg").result(timeout=60)
    assert swapped.name == "logreg" and predictor.name == "logreg" and predictor.last_error is None
    reading = predictor.read_frame(page.image)
    assert reading.model == "logreg" and reading.model_sha256 == swapped.sha256
    predictor.close()


def test_failed_swap_keeps_the_old_model(cnn, tmp_path, mnist_test):
    predictor = Predictor(cnn)
    with pytest.raises(Exception, match="no model 'nonexistent'"):
        predictor.swap("nonexistent").result(timeout=60)
    assert predictor.name == "cnn" and "nonexistent" in predictor.last_error
    # A corrupt copy of a real model: checksum fails, the CNN keeps serving.
    bad = tmp_path / "models"
    shutil.copytree(shipped_dir(), bad, ignore=shutil.ignore_patterns("cnn*"))
    skops = next(bad.glob("logreg-*.skops"))
    skops.write_bytes(skops.read_bytes()[:1000])
    with pytest.raises(Exception, match="checksum"):
        predictor.swap(bad / "logreg.json").result(timeout=60)
    assert predictor.name == "cnn" and "checksum" in predictor.last_error
    page = next(pages(mnist_test, 1, seed=8))
    assert predictor.read_frame(page.image).text == "".join(map(str, page.labels))
    predictor.close()


def test_predictor_is_safe_across_threads_during_swaps(cnn, logreg, mnist_test):
    predictor = Predictor(cnn)
    frames = [p.image for p in pages(mnist_test, 4, seed=9)]
    readings, errors = [], []

    def worker():
        try:
            for frame in frames * 3:
                readings.append(predictor.read_frame(frame))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for model in (logreg, cnn, logreg):
        predictor.swap(model).result(timeout=60)
    for thread in threads:
        thread.join()
    assert errors == [] and len(readings) == 36
    shas = {"cnn": cnn.sha256, "logreg": logreg.sha256}
    assert all(r.model in shas and r.model_sha256 == shas[r.model] for r in readings)
    assert len(predictor.latencies) >= 36 and all(t > 0 for t in predictor.latencies)
    predictor.close()


# --- prediction log --------------------------------------------------------------------------


def test_a_confirmation_is_told_from_a_correction(tmp_path):
    log = PredictionLog(tmp_path / "log.sqlite")
    image = np.zeros((28, 28), np.uint8)
    ids = [log.add("draw", "m", "0" * 64, label, 0.9, np.full(10, 0.1), 1.0, image) for label in (7, 3, None)]
    log.correct_many({ids[0]: 7, ids[1]: 5, ids[2]: 4})  # the model was right, wrong, unsure
    assert log.count_corrections() == 3 and log.count_confirmations() == 1
    log.close()


def test_log_records_corrects_exports_and_serves_as_dataset(tmp_path, predictor, mnist_test):
    X, y = mnist_test
    log = PredictionLog(tmp_path / "sub" / "log.sqlite")
    reading = predictor.read_canvas(redraw(X[0], np.random.default_rng(0)))
    ids = log.add_reading(reading, "draw")
    page = next(pages(mnist_test, 1, seed=10))
    ids += log.add_reading(predictor.read_frame(page.image), "camera")
    assert len(log) == len(ids) == 1 + len(page.labels)
    log.correct(ids[0], int(y[0]))
    log.correct(ids[1], 3)
    table = log.frame()
    assert list(table["id"]) == ids[::-1]
    first = table.set_index("id").loc[ids[0]]
    assert first["source"] == "draw" and first["model"] == "cnn" and first["model_sha256"] == predictor.active.sha256
    assert len(first["probabilities"]) == 10 and first["latency_ms"] > 0
    np.testing.assert_array_equal(np.frombuffer(first["image"], np.uint8).reshape(28, 28), reading.digits[0].image)
    X_user, y_user = log.corrections()
    assert X_user.shape == (2, 28, 28) and list(y_user) == [y[0], 3] and log.count_corrections() == 2
    assert predictor.active.pipeline.score(X_user[:1], y_user[:1]) == 1.0  # a dataset any model can score
    import pandas as pd

    parquet = pd.read_parquet(log.export(tmp_path / "log.parquet"))
    csv = pd.read_csv(log.export(tmp_path / "log.csv"))
    assert list(parquet["id"]) == list(csv["id"]) == ids
    assert bytes.fromhex(csv["image"][0]) == reading.digits[0].image.tobytes()
    with pytest.raises(ValueError, match=".csv or .parquet"):
        log.export(tmp_path / "log.xlsx")
    with pytest.raises(KeyError, match="no record 999"):
        log.correct(999, 1)
    with pytest.raises(ValueError, match="source"):
        log.add("phone", "cnn", "x", 1, 0.9, np.ones(10) / 10, 1.0, X[0])
    log.close()


def test_log_survives_a_kill_during_writing(tmp_path):
    path = tmp_path / "log.sqlite"
    writer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, numpy as np\n"
            "from workbench.live.log import PredictionLog\n"
            f"log = PredictionLog({str(path)!r})\n"
            "image = np.zeros((28, 28), np.uint8)\n"
            "while True:\n"
            "    i = log.add('camera', 'cnn', 'sha', 1, 0.9, np.full(10, 0.1), 1.0, image)\n"
            "    print(i, flush=True)\n"
        )],
        stdout=subprocess.PIPE, text=True,
    )
    committed = [int(writer.stdout.readline()) for _ in range(300)]
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT id FROM predictions")}
    assert set(committed) <= stored


def test_unwritable_log_path_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LogError, match="cannot open the prediction log"):
        PredictionLog(blocker / "log.sqlite")


def test_default_log_path_follows_the_environment(tmp_path, monkeypatch):
    from workbench.live.log import default_log_path

    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "mine.sqlite"))
    assert default_log_path() == tmp_path / "mine.sqlite"
    monkeypatch.delenv("WORKBENCH_LOG")
    assert default_log_path().name == "predictions.sqlite" and "workbench" in str(default_log_path())


# --- images and the predict / log commands ---------------------------------------------------


def test_as_gray_accepts_the_usual_pixel_formats():
    gray = np.arange(256, dtype=np.uint8).reshape(16, 16)
    np.testing.assert_array_equal(as_gray(gray.astype(np.uint16) * 257), gray)
    np.testing.assert_array_equal(as_gray(gray / 255.0), gray)
    np.testing.assert_array_equal(as_gray(np.repeat(gray[..., None], 3, 2)), gray)
    for bad, message in [(np.zeros((4, 4, 2)), "shape"), (np.zeros((0, 4)), "empty"),
                         (np.full((4, 4), np.nan), "NaN"), (np.zeros((4, 4), np.complex64), "complex64")]:
        with pytest.raises(ImageError, match=message):
            as_gray(bad)


def test_predict_command(tmp_path, monkeypatch, capsys, mnist_test):
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    page = next(pages(mnist_test, 1, seed=11))
    photo, drawing = tmp_path / "page.jpg", tmp_path / "drawing.png"
    cv2.imwrite(str(photo), page.image)
    X, y = mnist_test
    cv2.imwrite(str(drawing), redraw(X[1], np.random.default_rng(0), invert=True))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    paths = [str(photo), str(broken), str(tmp_path / "missing.bmp"), str(drawing)]
    assert main(["predict", "--json", *paths]) == 1
    results = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in results] == paths
    assert results[0]["text"] == "".join(map(str, page.labels))
    assert [d["label"] for d in results[0]["digits"]] == page.labels
    assert all(len(d["box"]) == 4 and 0.7 <= d["confidence"] <= 1 for d in results[0]["digits"])
    assert "corrupt" in results[1]["error"] and "broken.png" in results[1]["error"]
    assert "missing.bmp" in results[2]["error"]
    assert results[3]["text"] == str(y[1])

    assert main(["predict", str(photo), str(drawing)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{photo}: {results[0]['text']}", f"{drawing}: {y[1]}"]

    assert main(["log", "--limit", "3", "--correct", "1=4"]) == 0
    out = capsys.readouterr().out
    assert "file" in out and "cnn" in out and len(out.splitlines()) == 4
    assert main(["log", "--export", str(tmp_path / "all.csv")]) == 0
    assert "exported" in capsys.readouterr().out
    assert main(["log", "--correct", "x=1"]) == 2
    assert "ID=LABEL" in capsys.readouterr().err


def test_predict_with_an_unknown_model_names_the_known_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    assert main(["predict", "--model", "nope", str(tmp_path / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "no model 'nope'" in err and "logreg" in err


def test_read_image_errors_name_the_file(tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png: the file is empty"):
        read_image(empty)
    with pytest.raises(ImageError, match="a folder; give an image file"):
        read_image(tmp_path)
    with pytest.raises(ImageError, match="missing.png: cannot read the file"):
        read_image(tmp_path / "missing.png")


def test_layout_and_photograph_keep_the_truth(mnist_test):
    X, y = mnist_test
    rng = np.random.default_rng(12)
    sheet, boxes = layout(X[:5], rng, line_lengths=[3, 2], digit_px=40)
    assert len(boxes) == 5 and sheet.max() <= 1
    page = photograph(sheet, boxes, rng, tilt=0)
    assert page.image.shape == (480, 640, 3) and len(page.boxes) == 5
    assert [b[0] for b in page.boxes[:3]] == sorted(b[0] for b in page.boxes[:3])
    assert min(b[1] for b in page.boxes[3:]) > max(b[1] for b in page.boxes[:3])


# --- camera loop -----------------------------------------------------------------------------


def test_camera_loop_reads_the_demo_in_the_background(predictor, tmp_path):
    import time

    from workbench.live.camera import CameraLoop, annotate

    log = PredictionLog(tmp_path / "log.sqlite")
    source = DemoSource(seed=3)
    loop = CameraLoop(source, predictor, log, max_fps=1000).start()
    deadline = time.monotonic() + 60
    while loop.latest().frame_number < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    state = loop.latest()
    assert state.status == "running" and state.frame_number >= 30 and state.fps > 0
    assert state.reading.text == "".join(map(str, source.labels))
    loop.paused.set()
    time.sleep(0.3)
    assert loop.latest().status == "paused"
    paused_at = loop.latest().frame_number
    time.sleep(0.2)
    assert loop.latest().frame_number == paused_at
    shot = loop.snapshot(tmp_path / "shots")
    assert shot.exists() and json.loads(shot.with_suffix(".json").read_text())["text"] == state.reading.text
    loop.stop()
    # Each digit was logged once per label it settled on, not once per frame.
    assert len(source.labels) <= len(log) <= 3 * len(source.labels)
    assert set(log.frame()["source"]) == {"camera"}
    drawn = annotate(state.frame, state.reading)
    assert drawn.shape == state.frame.shape and not np.array_equal(drawn, state.frame)


def test_camera_loop_reports_the_end_of_a_video(predictor, tmp_path):
    import time

    from workbench.live.camera import CameraLoop

    video = demo_video(tmp_path / "clip.avi", 3)
    loop = CameraLoop(str(video), predictor, max_fps=1000).start()
    deadline = time.monotonic() + 30
    while "ended" not in loop.latest().status and time.monotonic() < deadline:
        time.sleep(0.05)
    assert loop.latest().status == f"video {video} ended" and loop.latest().frame_number == 3
    loop.stop()


def test_export_in_chunks_gives_the_whole_log(tmp_path, monkeypatch):
    """The export streams the log in chunks; across chunk edges it is the same table."""
    import pandas as pd

    import workbench.live.log as log_module

    X, y = load_mnist("test", subset=30)
    log = PredictionLog(tmp_path / "log.sqlite")
    # an empty log exports its columns alone
    assert list(pd.read_csv(log.export(tmp_path / "empty.csv"))) == log_module.COLUMNS
    assert list(pd.read_parquet(log.export(tmp_path / "empty.parquet"))) == log_module.COLUMNS
    for i in range(23):
        log.add("draw", "m", "sha", None if i % 5 == 0 else int(y[i]), 0.5, np.full(10, 0.1), 1.0, X[i])
    log.correct(4, 7)
    monkeypatch.setattr(log_module, "_EXPORT_CHUNK", 5)
    whole = log.frame().iloc[::-1].reset_index(drop=True)
    parquet = pd.read_parquet(log.export(tmp_path / "log.parquet"))
    csv = pd.read_csv(log.export(tmp_path / "log.csv"))
    assert list(parquet["id"]) == list(csv["id"]) == list(range(1, 24))
    assert parquet["label"].dtype == "Int64" and parquet["label"].isna().sum() == 5
    assert parquet["corrected_label"].tolist()[3] == 7 and parquet["corrected_label"].isna().sum() == 22
    for column in ("label", "corrected_label", "confidence", "source"):
        assert parquet[column].astype(str).tolist() == whole[column].astype(str).tolist()
    assert [bytes.fromhex(h) for h in csv["image"]] == list(whole["image"])
    log.close()


def test_reading_with_another_loaded_model_decides_as_the_predictor_does(logreg_predictor):
    """The app's "compare all" reads the drawing with every loaded model through the Predictor:
    a letter the gate refuses is refused whichever model reads it, a digit gets each model's label."""
    from workbench.synth import non_digit

    cnn = load_active("cnn")
    rng = np.random.default_rng(0)
    for _ in range(50):
        letter, _ = non_digit("letter", rng)
        if logreg_predictor.read_canvas(letter).digits[0].refused:
            break
    else:
        pytest.fail("the gate refused none of 50 printed letters")
    reading = logreg_predictor.read_canvas(letter, active=cnn)
    assert reading.model == "cnn" and reading.digits[0].refused and reading.digits[0].label is None
    seven = redraw(load_mnist("test")[0][0], np.random.default_rng(1), invert=False)
    reading = logreg_predictor.read_canvas(seven, active=cnn)
    assert reading.model == "cnn" and reading.digits[0].label == 7 and not reading.digits[0].refused
    assert logreg_predictor.name == "logreg"  # the active model stays as it was


def test_the_model_catalogue_loads_in_the_background_and_says_what_failed(tmp_path):
    import shutil

    from workbench.live.catalogue import ModelCatalogue
    from workbench.store import list_models, shipped_dir

    for path in shipped_dir().glob("logreg*"):
        shutil.copy(path, tmp_path)
    meta = (tmp_path / "logreg.json").read_text()  # a model whose file has gone:
    (tmp_path / "broken.json").write_text(meta.replace("logreg-8460706a9a67.skops", "missing-8460706a9a67.skops"))
    catalogue = ModelCatalogue()
    catalogue.load(list_models(tmp_path), tmp_path)
    catalogue.close()
    models, latency = catalogue.snapshot()
    assert models["logreg"].name == "logreg" and 0 < latency["logreg"] < 1000
    assert isinstance(models["broken"], str) and "does not exist" in models["broken"]
    assert catalogue.get("nosuch") is None


def test_a_log_of_an_earlier_workbench_gains_the_origin_column_and_keeps_its_records(tmp_path):
    from workbench.live.log import COLUMNS

    path = tmp_path / "old.sqlite"
    old_columns = ", ".join(f"{c} BLOB" for c in COLUMNS[1:-1])  # the columns before `origin`
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE predictions (id INTEGER PRIMARY KEY AUTOINCREMENT, {old_columns})")
        db.execute("INSERT INTO predictions (time, source, model, model_sha256, label, confidence, probabilities,"
                   " latency_ms, image) VALUES (1, 'file', 'cnn', 'ab', 7, 0.9, '[]', 1.0, zeroblob(784))")
    with PredictionLog(path) as log:
        log.add("file", "cnn", "ab", 3, 0.9, np.full(10, 0.1), 1.0, np.zeros((28, 28), np.uint8), origin="/a/b.png")
        table = log.frame()
    assert list(table["label"]) == [3, 7] and list(table["origin"].fillna("-")) == ["/a/b.png", "-"]

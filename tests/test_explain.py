"""Why the model said it: top classes, occlusion saliency, `workbench predict --explain`."""

import numpy as np
import pytest
from PIL import Image

from workbench.cli import main
from workbench.explain import heat, saliency, top_classes
from workbench.store import load_model


def one() -> np.ndarray:
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 13:16] = 255
    return image


def test_top_classes_are_the_most_probable_first():
    p = np.array([0.1, 0.5, 0.05, 0.35])
    assert top_classes(p, np.array([3, 4, 5, 6])) == [(4, 0.5), (6, 0.35), (3, 0.1)]


@pytest.mark.parametrize("name", ["logreg", "cnn"])
def test_saliency_lies_on_the_strokes(name):
    model = load_model(name)
    saliency_map, seen = saliency(model, one())
    assert saliency_map.shape == (28, 28) and seen.shape == (28, 28) and seen.dtype == np.uint8
    assert saliency_map.min() >= 0 and saliency_map.max() <= 1
    assert saliency_map.max() > 0
    ink = seen > 64
    far = np.ones((28, 28), bool)
    rows, cols = np.nonzero(ink)
    far[max(0, rows.min() - 6) : rows.max() + 7, max(0, cols.min() - 6) : cols.max() + 7] = False
    # Covering empty background changes nothing: the map is zero far from any stroke.
    assert saliency_map[far].max() == 0
    assert heat(seen, saliency_map).shape == (140, 140, 3)


def test_saliency_takes_one_image():
    with pytest.raises(ValueError, match="one 28x28 image"):
        saliency(load_model("logreg"), np.zeros((2, 28, 28), np.uint8))


def test_predict_explain_writes_a_png_per_input(tmp_path, capsys):
    canvas = np.zeros((200, 200), np.uint8)
    canvas[30:170, 90:110] = 255
    paths = []
    for folder in ("a", "b"):  # two inputs of the same name: two PNGs
        (tmp_path / folder).mkdir()
        paths.append(tmp_path / folder / "one.png")
        Image.fromarray(canvas).save(paths[-1])
    out = tmp_path / "why"
    code = main(["predict", *map(str, paths), "--model", "logreg", "--explain-dir", str(out),
                 "--log", str(tmp_path / "log.sqlite")])
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["one-2.png", "one.png"]
    assert Image.open(out / "one.png").size[0] > 200
    assert f"explained in {out / 'one.png'}" in capsys.readouterr().out

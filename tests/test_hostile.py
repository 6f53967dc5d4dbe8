"""Hostile inputs and faults: odd and broken image files, oversized images, bad arrays."""

import json
import resource
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from workbench import load_mnist
from workbench.cli import main
from workbench.live.images import MAX_PIXELS, ImageError, read_image
from workbench.live.synth import redraw


@pytest.fixture(scope="module")
def drawing():
    """A black-on-white drawing of MNIST test digit 1 (a 2) that the shipped CNN reads right."""
    X, y = load_mnist("test")
    return redraw(X[1], np.random.default_rng(0), invert=True), int(y[1])


def _png_header_only(path, width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (no decodable pixels)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))


def _image_files(folder, drawing):
    """Every kind of image file a user may hand over, each a picture of the same digit."""
    gray = Image.fromarray(drawing)
    files = {}
    gray.save(files.setdefault("gray.png", folder / "gray.png"))
    gray.convert("RGB").save(files.setdefault("photo.jpg", folder / "photo.jpg"), quality=90)
    gray.convert("RGB").save(files.setdefault("scan.bmp", folder / "scan.bmp"))
    gray.convert("1").save(files.setdefault("bilevel.png", folder / "bilevel.png"))
    palette = gray.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    palette.save(files.setdefault("palette.png", folder / "palette.png"))
    Image.fromarray(drawing.astype(np.uint16) * 257).save(files.setdefault("16bit.png", folder / "16bit.png"))
    rgba = np.zeros((*drawing.shape, 4), np.uint8)  # dark ink on a transparent background
    rgba[..., 3] = 255 - drawing
    Image.fromarray(rgba, "RGBA").save(files.setdefault("transparent.png", folder / "transparent.png"))
    gray.convert("CMYK").save(files.setdefault("cmyk.jpg", folder / "cmyk.jpg"))
    # stored turned a quarter turn; the EXIF orientation (6: rotate 90 degrees clockwise) sets it upright
    exif = Image.Exif()
    exif[0x0112] = 6
    gray.rotate(90, expand=True).save(files.setdefault("exif.jpg", folder / "exif.jpg"), exif=exif)
    return files


def test_every_kind_of_image_file_is_read(tmp_path, drawing):
    image, label = drawing
    for name, path in _image_files(tmp_path, image).items():
        pixels = read_image(path)
        assert pixels.shape[:2] == image.shape, name
        gray = pixels if pixels.ndim == 2 else pixels[..., :3].mean(axis=2)
        if gray.dtype == np.uint16:
            gray = gray / 257
        if name == "transparent.png":
            gray = 255 - pixels[..., 3]
        assert np.abs(gray.astype(float) - image).mean() < 8, name  # upright, same picture


def test_bad_files_get_a_clear_error_and_the_others_are_still_read(tmp_path, drawing, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    image, label = drawing
    good = _image_files(tmp_path, image)
    png = good["gray.png"].read_bytes()
    jpeg = good["photo.jpg"].read_bytes()
    bad = {
        "empty.png": (b"", "the file is empty"),
        "notes.png": (b"shopping list: eggs, milk\n", "not a readable"),
        "half.png": (png[: len(png) // 2], "corrupt or truncated"),
        "half.jpg": (jpeg[: len(jpeg) // 3], "corrupt or truncated"),
        "garbage.jpg": (bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), "not a readable"),
    }
    for name, (data, _) in bad.items():
        (tmp_path / name).write_bytes(data)
    _png_header_only(tmp_path / "huge.png", 30_000, 30_000)
    bad["huge.png"] = (None, "more than 179 megapixels, more than the 50 megapixels the readers accept")
    bomb = tmp_path / "bomb.png"  # a real one: 12,000 x 12,000 pixels in a few kilobytes
    Image.new("1", (12_000, 12_000)).save(bomb)
    assert bomb.stat().st_size < 100_000
    bad["bomb.png"] = (None, "the image is 12000 x 12000 pixels (144 megapixels), more than the 50")
    bad["missing.png"] = (None, "cannot read the file")
    paths = [str(p) for p in good.values()] + [str(tmp_path / name) for name in bad]

    main(["predict", str(good["gray.png"])])  # load the model and compile it before measuring memory
    capsys.readouterr()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert main(["predict", "--json", *paths]) == 1
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    results = json.loads(capsys.readouterr().out)
    assert [r["path"] for r in results] == paths
    for result in results[: len(good)]:
        assert result.get("text") == str(label), result
    for result, (name, (_, message)) in zip(results[len(good):], bad.items(), strict=True):
        assert name in result["error"] and message in result["error"], result
    assert grown_mb < 300  # the oversized images were refused from their header, never decoded


def test_the_pixel_limit_is_checked_before_decoding(tmp_path):
    side = int(np.sqrt(MAX_PIXELS)) + 1
    _png_header_only(tmp_path / "big.png", side, side)
    with pytest.raises(ImageError, match="big.png: the image is"):
        read_image(tmp_path / "big.png")
    with pytest.raises(ImageError, match="cannot read the file"):
        read_image(tmp_path)  # a folder

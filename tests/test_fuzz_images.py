"""Mutation fuzzing of the image file reader: real PNG, JPEG, TIFF, GIF and WebP files with
EXIF, damaged at random (seeded, so a failure reproduces). Whatever the damage, ``read_image``
returns an array or raises ``ImageError``: never another exception.

Two kinds of damage: random bytes (anywhere, or in the first 512 bytes where the headers are)
and structure-aware edits of the EXIF/TIFF tag directory (a tag's type, count, value or number
changed), which is what makes Pillow's tag parsing raise TypeError and struct.error.
"""

import struct
import time

import numpy as np
import pytest
from PIL import Image

from workbench.live.images import ImageError, read_image

ROUNDS = 4000  # files per kind of damage: about 2.5 s each on this 2-core machine


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    digit = np.full((40, 30), 255, np.uint8)
    digit[8:32, 12:18] = 0
    image = Image.fromarray(digit)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "Camera"
    exif[0x011A] = 72.0  # X resolution (a rational)
    exif[0x0128] = 2
    files = {}
    for name, kwargs in {"png": {}, "jpg": {"quality": 80}, "tif": {}, "webp": {}}.items():
        path = folder / f"seed.{name}"
        image.convert("RGB").save(path, exif=exif, **kwargs)
        files[name] = path.read_bytes()
    path = folder / "seed.gif"
    image.convert("P").save(path)
    files["gif"] = path.read_bytes()
    deflated = folder / "deflate.tif"
    image.save(deflated, exif=exif, compression="tiff_deflate")
    files["deflate.tif"] = deflated.read_bytes()
    return files


def _damage_bytes(data: bytes, rng) -> bytes:
    data = bytearray(data)
    kind = rng.integers(3)
    if kind == 0:  # headers
        for _ in range(rng.integers(1, 8)):
            data[rng.integers(min(len(data), 512))] = rng.integers(256)
    elif kind == 1:  # anywhere
        for _ in range(rng.integers(1, 8)):
            data[rng.integers(len(data))] = rng.integers(256)
    else:  # truncated
        data = data[: rng.integers(1, len(data))]
    return bytes(data)


def _damage_tags(data: bytes, rng) -> bytes:
    """Change one or two entries of the first TIFF tag directory (a TIFF file's own, or the
    EXIF block of a JPEG, PNG or WebP)."""
    found = [(data.find(magic), order) for magic, order in ((b"II*\x00", "<"), (b"MM\x00*", ">"))]
    found = [(start, order) for start, order in found if start >= 0]
    if not found:
        return _damage_bytes(data, rng)
    start, order = found[0]
    data = bytearray(data)
    at = start + struct.unpack(order + "I", data[start + 4 : start + 8])[0]
    count = struct.unpack(order + "H", data[at : at + 2])[0]
    entries = [at + 2 + 12 * i for i in range(count) if at + 14 + 12 * i <= len(data)]
    for _ in range(rng.integers(1, 3)):
        entry = entries[rng.integers(len(entries))]
        field = rng.integers(4)
        if field == 0:  # the value's type
            data[entry + 2 : entry + 4] = struct.pack(order + "H", int(rng.integers(0, 14)))
        elif field == 1:  # how many values
            data[entry + 4 : entry + 8] = struct.pack(order + "I", int(rng.choice([0, 1, 2, 3, 1000, 2**31])))
        elif field == 2:  # the value or its offset
            data[entry + 8 : entry + 12] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        else:  # which tag it is: orientation, resolution, the EXIF pointer, size
            tag = int(rng.choice([0x0112, 0x011A, 0x8769, 0x0128, 0x0100, 0x0101]))
            data[entry : entry + 2] = struct.pack(order + "H", tag)
    return bytes(data)


@pytest.mark.parametrize("damage", [_damage_bytes, _damage_tags])
def test_a_damaged_image_file_is_an_array_or_an_image_error(tmp_path, seeds, damage):
    rng = np.random.default_rng(0)
    names = sorted(seeds)
    target = tmp_path / "damaged"
    outcomes = {"array": 0, "ImageError": 0}
    started = time.perf_counter()
    for i in range(ROUNDS):
        name = names[i % len(names)]
        target.write_bytes(damage(seeds[name], rng))
        try:
            pixels = read_image(target)
        except ImageError as exc:
            assert "damaged" in str(exc)  # names the file
            outcomes["ImageError"] += 1
        except Exception as exc:  # what the test exists to catch
            raise AssertionError(f"round {i} ({name}): {type(exc).__name__}: {exc}") from exc
        else:
            assert isinstance(pixels, np.ndarray) and pixels.ndim in (2, 3) and pixels.size > 0
            outcomes["array"] += 1
    # both outcomes occur: the damage is neither always fatal nor always harmless
    assert min(outcomes.values()) > ROUNDS // 20, outcomes
    print(f"{damage.__name__}: {ROUNDS} files in {time.perf_counter() - started:.1f} s, {outcomes}")

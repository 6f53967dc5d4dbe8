"""Hostile inputs and faults: odd and broken image files, oversized images, a camera that
disappears, a prediction log that cannot be written."""

import json
import os
import resource
import sqlite3
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from workbench import load_mnist
from workbench.cli import main
from workbench.live.camera import CameraLoop
from workbench.live.images import MAX_PIXELS, ImageError, read_image
from workbench.live.log import LogError, PredictionLog
from workbench.live.sources import DemoSource, Source, SourceError, open_source
from workbench.store import ModelFileError, load_model, resolve_model
from workbench.synth import redraw


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
    with pytest.raises(ImageError, match="a folder; give an image file"):
        read_image(tmp_path)


def test_a_fifo_or_device_is_refused_at_once_and_the_other_files_are_read(tmp_path, drawing, capsys, monkeypatch):
    """Opening a FIFO for reading waits for a writer forever; it must be refused instead."""
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    image, label = drawing
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    Image.fromarray(image).save(tmp_path / "digit.png")
    argv = ["predict", "--model", "logreg", str(fifo), "/dev/zero", str(tmp_path / "digit.png")]
    code = f"import sys\nfrom workbench.cli import main\nsys.exit(main({argv!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WORKBENCH_LOG": str(tmp_path / "log.sqlite")})
    assert done.returncode == 1
    assert "pipe.png: not a regular file (a FIFO, device or socket)" in done.stderr
    assert "/dev/zero: not a regular file" in done.stderr
    assert done.stdout.strip().endswith("digit.png: 2")


@pytest.mark.parametrize("shape", [(1, 3000), (3000, 1), (2, 100_000), (1, 801), (5, 40_000)])
def test_extreme_aspect_ratios_are_read_without_crashing(tmp_path, drawing, shape, capsys, monkeypatch):
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "log.sqlite"))
    image, label = drawing
    strip = tmp_path / "strip.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)).save(strip)
    Image.fromarray(image).save(tmp_path / "digit.png")
    assert main(["predict", "--model", "logreg", str(strip), str(tmp_path / "digit.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{strip}: ") and out[1] == f"{tmp_path / 'digit.png'}: {label}"


# ---- camera faults ------------------------------------------------------------------------------

class FlakyCamera(Source):
    """A device that gives ``frames`` frames, then fails; its first ``refusals`` reopens fail."""

    name = "camera 9"
    reconnectable = True

    def __init__(self, frames: int, refusals: int):
        self.demo, self.left, self.refusals, self.reopens = DemoSource(seed=3), frames, refusals, 0

    def read(self):
        if self.left == 0:
            raise RuntimeError("device unplugged")
        self.left -= 1
        return self.demo.read()

    def reopen(self):
        self.reopens += 1
        if self.reopens <= self.refusals:
            return False
        self.left = 10**9
        return True


def _watch(loop, until, timeout=30):
    """Statuses of ``loop`` (each once, in order) until ``until(state)`` holds."""
    statuses, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = loop.latest()
        if not statuses or statuses[-1] != state.status:
            statuses.append(state.status)
        if until(state):
            return statuses
        time.sleep(0.005)
    raise AssertionError(f"timed out; statuses: {statuses}")


def test_a_camera_that_disappears_is_retried_with_backoff_and_comes_back(logreg_predictor):
    camera = FlakyCamera(frames=5, refusals=2)
    loop = CameraLoop(camera, logreg_predictor, max_fps=200)
    loop.max_backoff = 0.2
    loop.start()
    try:
        statuses = _watch(loop, lambda s: s.frame_number > 10)
    finally:
        loop.stop()
    lost = [s for s in statuses if "lost" in s]
    assert lost[0] == "camera 9 lost (device unplugged); retrying in 0.5 s (attempt 1)"
    assert any("attempt 3" in s for s in lost) and camera.reopens == 3
    assert statuses[-1] == "running"


def test_stopping_during_the_retries_is_prompt(logreg_predictor):
    loop = CameraLoop(FlakyCamera(frames=1, refusals=10**6), logreg_predictor).start()
    _watch(loop, lambda s: "retrying" in s.status)
    started = time.monotonic()
    loop.stop()
    assert not loop._thread.is_alive() and time.monotonic() - started < 5


class OddFrames(Source):
    """A source whose frames include ones that cannot be read (1 x 3000, empty, wrong shape)."""

    name = "odd"

    def __init__(self):
        self.demo, self.count = DemoSource(seed=2), 0

    def read(self):
        self.count += 1
        if self.count % 3 == 0:
            return [np.zeros((1, 3000, 3), np.uint8), np.zeros((0, 5), np.uint8),
                    np.zeros((4, 4, 7), np.uint8)][(self.count // 3) % 3]
        return self.demo.read()


def test_the_camera_loop_survives_frames_that_cannot_be_read(logreg_predictor):
    loop = CameraLoop(OddFrames(), logreg_predictor, max_fps=200).start()
    try:
        statuses = _watch(loop, lambda s: s.frame_number > 30 and s.status == "running")
    finally:
        loop.stop()
    assert loop.frame_errors >= 5
    assert any("could not be read" in s for s in statuses)


def test_a_dead_camera_thread_is_reported_not_running(logreg_predictor, monkeypatch):
    loop = CameraLoop(DemoSource(seed=1), logreg_predictor, max_fps=200)

    def broken(reading):  # a bug outside the per-frame guard: the thread dies
        raise SystemError("the tracker broke")

    monkeypatch.setattr(loop, "_log_settled", broken)
    monkeypatch.setattr(loop, "_loop", lambda: (_ for _ in ()).throw(SystemError("the loop broke")))
    loop.start()
    loop._thread.join(timeout=10)
    assert loop.latest().status == "camera loop stopped: SystemError: the loop broke"
    loop._publish(status="running")  # even if something had written "running" last
    assert loop.latest().status.startswith("camera loop stopped")
    loop.stop()


def test_a_missing_camera_is_a_clear_error():
    with pytest.raises(SourceError, match="cannot open camera 7: no camera at this index"):
        open_source("7")


# ---- prediction log faults ------------------------------------------------------------------------

def test_two_processes_logging_at_once_lose_nothing(tmp_path):
    path = tmp_path / "log.sqlite"
    code = (
        "import sys, numpy as np\n"
        "from workbench.live.log import PredictionLog\n"
        f"log = PredictionLog({str(path)!r})\n"
        "for i in range(300):\n"
        "    image = np.full((28, 28), i % 256, np.uint8)\n"
        "    log.add('draw', sys.argv[1], 'sha', i % 10, 0.9, np.full(10, 0.1), 1.0, image)\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, name]) for name in ("first", "second")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = dict(db.execute("SELECT model, COUNT(*) FROM predictions GROUP BY model").fetchall())
    assert counts == {"first": 300, "second": 300}


def test_a_full_disk_is_a_clear_error_and_the_camera_keeps_reading(tmp_path, logreg_predictor):
    log = PredictionLog(tmp_path / "log.sqlite")
    X, y = load_mnist("test", subset=20)
    first = log.add("draw", "cnn", "sha", int(y[0]), 0.9, np.full(10, 0.1), 1.0, X[0])
    pages = log._db.execute("PRAGMA page_count").fetchone()[0]
    log._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite now fails as on a full disk
    with pytest.raises(LogError, match=r"cannot write to the prediction log .*log.sqlite: database or disk is full"):
        for _ in range(200):
            log.add("draw", "cnn", "sha", int(y[1]), 0.9, np.full(10, 0.1), 1.0, X[1])
    loop = CameraLoop(DemoSource(seed=1), logreg_predictor, log, max_fps=200).start()
    try:
        statuses = _watch(loop, lambda s: s.frame_number > 40)
    finally:
        loop.stop()
    assert "running, not logging: cannot write to the prediction log" in statuses[-1]
    assert log.corrections()[1].size == 0 and log._db.execute(
        "SELECT id FROM predictions WHERE id = ?", (first,)).fetchone() == (first,)  # what was saved is there


def test_a_read_only_log_location_warns_and_predict_still_reads(tmp_path, drawing, capsys):
    image, label = drawing
    Image.fromarray(image).save(tmp_path / "digit.png")
    assert main(["predict", "--log", "/proc/workbench/log.sqlite", str(tmp_path / "digit.png")]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().endswith(f": {label}")
    assert "cannot open the prediction log /proc/workbench/log.sqlite" in captured.err


# ---- model files ----------------------------------------------------------------------------------

class _Payload:
    """Unpickling this runs a shell command (what a hostile model file would do)."""

    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        import os

        return os.system, (self.command,)


@pytest.mark.parametrize("suffix", [".skops", ".json"])
def test_a_pickle_bomb_model_file_is_refused_and_nothing_runs(tmp_path, models_dir, suffix):
    import pickle

    marker = tmp_path / "ran"
    models_dir.mkdir()
    evil = models_dir / "evil-000000000000.skops"
    evil.write_bytes(pickle.dumps(_Payload(f"touch {marker}")))
    from workbench.data import sha256_file

    (models_dir / "evil.json").write_text(json.dumps({"name": "evil", "file": evil.name, "sha256": sha256_file(evil)}))
    with pytest.raises(ModelFileError, match="evil-000000000000.skops is corrupt or not a skops file"):
        load_model(evil if suffix == ".skops" else "evil")
    assert not marker.exists()


def test_a_model_killed_while_saving_leaves_the_previous_one_intact(tmp_path, models_dir):
    """Kill -9 a process that saves model after model, at several moments; each time the store
    holds a complete model that loads and passes its checksum."""
    code = (
        "import itertools, sys\n"
        "import workbench\n"
        "X, y = workbench.load_mnist('train', subset=300)\n"
        "pipe = workbench.get_pipeline('random_forest', clf__n_estimators=30, clf__n_jobs=1).fit(X, y)\n"
        "workbench.save_model(pipe, 'victim')\n"
        "print('ready', flush=True)\n"
        "for seed in itertools.count(1):\n"
        "    pipe.set_params(clf__random_state=seed).fit(X, y)\n"
        "    workbench.save_model(pipe, 'victim', metadata={'seed': seed})\n"
    )
    rng = np.random.default_rng(0)
    X, _ = load_mnist("test", subset=50)
    for _ in range(4):
        writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "WORKBENCH_MODELS": str(models_dir)})
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 1.5))
        writer.kill()
        writer.wait()
        model = load_model("victim")  # complete, checksum verified
        assert model.predict(X).shape == (50,)
        files = {p.name for p in models_dir.iterdir() if p.suffix == ".skops"}
        assert resolve_model("victim")[0].name in files

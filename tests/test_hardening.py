"""Files made to hurt: model files that inflate without limit, a FIFO where metadata should be,
a damaged prediction log, a type name spelled across module and class, PostScript named
.png, a model path that does not exist (the ONNX export that loads alone: test_import_export.py).

Bombs are built here at a small scale against lowered limits (the real limits are measured by
``benchmarks/model_bombs.py``: refused in well under a second, memory bounded).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from workbench import files, imported, store
from workbench.cli import _one_line, main
from workbench.files import ArchiveLimits, ArchiveProblem, check_archive
from workbench.live.images import ImageError, read_image
from workbench.live.log import LogError, PredictionLog
from workbench.store import ModelFileError, list_models, load_model, resolve_model

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models"
SMALL = ArchiveLimits("skops file", members=100, member_bytes=1 << 20, total_bytes=2 << 20,
                      named=(("schema.json", 256 << 10),))


@pytest.fixture
def logreg_store(logreg_models, monkeypatch):
    """A models folder holding a copy of the shipped logreg model; the model file limits lowered."""
    monkeypatch.setattr(store, "MODEL_LIMITS", SMALL)
    return logreg_models


def _rewrite(source: Path, target: Path, change) -> Path:
    """A copy of a zip with ``change(files)`` applied to its ``{name: bytes}``, deflated."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    change(members)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _skops(directory: Path) -> Path:
    return next(directory.glob("logreg-*.skops"))


def _pad_schema(members):  # valid JSON, its whitespace a thousandfold
    members["schema.json"] = members["schema.json"] + b" " * (4 << 20)


def _swap_array(members):  # the largest array member replaced by a much larger one
    name = max((n for n in members if n.endswith(".npy")), key=lambda n: len(members[n]))
    members[name] = b"\0" * (3 << 20)


@pytest.mark.parametrize("change, member", [(_pad_schema, "schema.json"), (_swap_array, ".npy")])
def test_a_model_file_that_inflates_past_its_limits_is_refused_before_loading(logreg_store, tmp_path, change,
                                                                              member, capsys):
    bomb = _rewrite(_skops(logreg_store), tmp_path / "bomb.skops", change)
    assert bomb.stat().st_size < 64 << 10  # a few kilobytes on disk
    with pytest.raises(ModelFileError, match=f"member '[^']*{member}' inflates to .* more than the"):
        load_model(bomb)
    # through the command line: one line, exit 1, from predict, evaluate and import alike
    png = tmp_path / "seven.png"
    png.write_bytes((ROOT / "docs" / "examples" / "drawing.png").read_bytes())
    for argv in (["predict", "--model", str(bomb), str(png)], ["evaluate", str(bomb)],
                 ["import", str(bomb), "--name", "mine"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "inflates to" in err[0] and "refused before loading" in err[0], (argv, err)
    assert not (logreg_store / "mine.json").exists()


def test_a_named_model_with_a_matching_checksum_is_checked_too(logreg_store):
    # The checksum proves only that the JSON and the file agree: a bomb saved with its own
    # checksum is refused by its size.
    meta_path = logreg_store / "logreg.json"
    meta = json.loads(meta_path.read_text())
    bomb = _rewrite(logreg_store / meta["file"], logreg_store / "logreg-bomb.skops", _pad_schema)
    meta.update(file=bomb.name, sha256=files_sha256(bomb))
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="schema.json' inflates to"):
        load_model("logreg")


def files_sha256(path: Path) -> str:
    from workbench.data import sha256_file

    return sha256_file(path)


def _lie_about_sizes(path: Path, claimed: int) -> None:
    """Rewrite a one-member zip's declared inflated size (local header and central directory)."""
    data = bytearray(path.read_bytes())
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = claimed.to_bytes(4, "little")
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_member_that_inflates_past_its_declared_size_is_refused(tmp_path):
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", b"\0" * (8 << 20))
    _lie_about_sizes(path, 1000)  # it says 1,000 bytes; it inflates to 8 MB
    assert zipfile.ZipFile(path).getinfo("schema.json").file_size == 1000
    started = time.perf_counter()
    with pytest.raises(ArchiveProblem, match="corrupt"):
        check_archive(path, SMALL)
    assert time.perf_counter() - started < 30  # generous: what matters is that it stops


def test_the_limits_count_members_and_the_total(tmp_path):
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(101):
            archive.writestr(f"{i}.npy", b"x")
    with pytest.raises(ArchiveProblem, match="holds 101 members, more than the 100"):
        check_archive(many, SMALL)
    total = tmp_path / "total.zip"
    with zipfile.ZipFile(total, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(3):
            archive.writestr(f"{i}.npy", b"\0" * (900 << 10))
    with pytest.raises(ArchiveProblem, match="in all, more than the 2 MB"):
        check_archive(total, SMALL)
    check_archive(total, ArchiveLimits("skops file", 100, 1 << 20, 3 << 20))  # within: nothing raised


def test_the_shipped_models_are_within_the_real_limits():
    for path in [*SHIPPED.glob("*.skops"), *SHIPPED.glob("gate/*.skops")]:
        check_archive(path, store.MODEL_LIMITS)


def _keras_bomb(path: Path, weights: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        archive.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {}}))
        archive.writestr("model.weights.h5", b"\0" * weights)
    return path


def test_a_keras_file_that_inflates_past_its_limits_is_refused_before_keras_reads_it(tmp_path, models_dir,
                                                                                     monkeypatch, capsys):
    monkeypatch.setattr(imported, "KERAS_LIMITS", ArchiveLimits(".keras file", 64, 1 << 20, 2 << 20))
    bomb = _keras_bomb(tmp_path / "bomb.keras", 4 << 20)
    assert main(["import", str(bomb), "--name", "theirs"]) == 1
    err = capsys.readouterr().err.strip()
    assert "member 'model.weights.h5' inflates to 4 MB, more than the 1 MB a .keras file member may" in err
    assert not (models_dir / "theirs.json").exists()
    # the same bytes riding inside a KerasDigitClassifier are checked when it is rebuilt
    clf = imported.KerasDigitClassifier()
    with pytest.raises(ValueError, match="model.weights.h5' inflates to"):
        clf._restore(np.frombuffer(bomb.read_bytes(), np.uint8), "the saved Keras model")


def _within(seconds: float, function, *args):
    """``function(*args)`` in a daemon thread: a call that blocks on a FIFO fails the test
    instead of hanging the suite."""
    import threading

    result = {}

    def run():
        try:
            result["value"] = function(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{function.__name__} still blocked after {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


def _mkfifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(path)
    return path


def test_a_fifo_in_the_models_folder_is_listed_as_unreadable_and_hangs_nothing(logreg_store):
    _mkfifo(logreg_store / "fifo.json")
    env = {**os.environ, "WORKBENCH_MODELS": str(logreg_store)}
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "models"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "logreg" in done.stdout and "fifo" in done.stdout and "not a regular file" in done.stdout
    entries = {m["name"]: m for m in _within(30, list_models, logreg_store)}
    assert "not a regular file" in entries["fifo"]["error"] and "error" not in entries["logreg"]
    # a model named by its .skops path looks at every JSON beside it: the FIFO is skipped
    path, meta = _within(30, resolve_model, _skops(logreg_store))
    assert meta["name"] == "logreg"


def test_a_fifo_as_a_model_file_is_refused_at_once(tmp_path):
    fifo = _mkfifo(tmp_path / "model.skops")
    with pytest.raises(ModelFileError, match="not a regular file"):
        _within(30, load_model, fifo)


def _damaged_log(tmp_path: Path, records: int = 63) -> Path:
    path = tmp_path / "log.sqlite"
    rng = np.random.default_rng(0)
    with PredictionLog(path) as log:
        for i in range(records):
            log.add("file", "cnn", "ab" * 32, i % 10, 0.9, np.full(10, 0.1), 1.0,
                    rng.integers(0, 256, (28, 28), dtype=np.uint8))
    assert path.stat().st_size > 44_000
    with open(path, "r+b") as file:
        file.seek(40_000)
        file.write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def test_a_damaged_log_is_one_line_and_never_written_into(tmp_path, capsys):
    path = _damaged_log(tmp_path)
    before = path.read_bytes()
    with pytest.raises(LogError, match="is damaged .* sqlite3 .* .recover"):
        PredictionLog(path)
    for argv in (["log", "--log", str(path), "--limit", "100"], ["log", "--log", str(path), "--export",
                                                                  str(tmp_path / "out.csv")],
                 ["log", "--log", str(path), "--correct", "3=4"]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "is damaged" in err[0] and err[0].isprintable(), err
    # predict reads on, says the log is damaged and how to recover, and leaves it as it was
    png = tmp_path / "seven.png"
    png.write_bytes((ROOT / "docs" / "examples" / "drawing.png").read_bytes())
    assert main(["predict", "--model", str(SHIPPED / "logreg.json"), "--log", str(path), str(png)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().startswith(str(png))
    assert "warning" in captured.err and "is damaged" in captured.err and ".recover" in captured.err
    assert path.read_bytes() == before


def test_error_lines_are_printable():
    assert _one_line("bad bytes \x00\x1b[31m\x07 here\nand\tthere") == r"bad bytes \x00\x1b[31m\x07 here and there"


def test_a_type_is_its_module_and_class_exactly(tmp_path, logreg_store):
    # ("sklearn", "pipeline.Pipeline") spells "sklearn.pipeline.Pipeline" when joined
    def split_differently(members):
        schema = json.loads(members["schema.json"])
        assert schema["__class__"] == "Pipeline" and schema["__module__"] == "sklearn.pipeline"
        schema["__module__"], schema["__class__"] = "sklearn", "pipeline.Pipeline"
        members["schema.json"] = json.dumps(schema).encode()

    odd = _rewrite(_skops(logreg_store), tmp_path / "odd.skops", split_differently)
    with pytest.raises(ModelFileError, match="names the type 'pipeline.Pipeline' in module 'sklearn'"):
        store.model_types(odd)


def test_postscript_named_png_never_reaches_pillows_eps_plugin(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    opened = []
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda self: opened.append(self) or None)
    fake = tmp_path / "page.png"
    fake.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n")
    with pytest.raises(ImageError, match="not a readable PNG, JPEG"):
        read_image(fake)
    assert opened == []


def test_a_model_path_that_does_not_exist_is_a_missing_file(models_dir, capsys):
    assert main(["predict", "--model", "/nonexistent/hostname.json", str(ROOT / "docs" / "examples" /
                                                                         "drawing.png")]) == 1
    err = capsys.readouterr().err
    assert "model metadata file /nonexistent/hostname.json does not exist" in err and "no model" not in err


def test_open_regular_names_each_problem(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "big").write_bytes(b"x" * 100)
    for path, problem in [(tmp_path, "a folder"), (tmp_path / "empty", "empty"),
                          (tmp_path / "missing", "cannot read"), (tmp_path / "big", "more than")]:
        with pytest.raises(files.FileProblem, match=problem):
            files.read_regular(path, max_bytes=10)

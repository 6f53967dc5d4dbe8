"""Model files that inflate far past the limits, refused: how long it takes and how much memory.

    .venv/bin/python benchmarks/model_bombs.py [--folder /tmp/model-bombs]

Builds, at the real limits (``store.MODEL_LIMITS``, ``imported.KERAS_LIMITS``), from the shipped
``logreg``: a ``.skops`` whose ``schema.json`` is padded to 1 GiB, one whose largest array is
replaced by a 1 GiB array, one whose array member says 1,000 bytes and inflates to 1 GiB, and a
``.keras`` whose weights inflate to 2 GiB, alone and riding inside a ``KerasDigitClassifier`` in
a ``.skops``. Each is a file of one to a few megabytes. For each: the check alone, in this
process (seconds, and the peak of Python's allocations while it runs: ``tracemalloc``), and the
command a user runs, as a whole process (wall seconds and peak resident memory, the imports
included). The bombs are written once to ``--folder`` (about a minute: deflating 5 GiB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GiB = 1 << 30


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _stream_member(archive: zipfile.ZipFile, name: str, size: int, byte: bytes = b"\0") -> None:
    """A deflated member of ``size`` repeated bytes, written in blocks (never all in memory)."""
    with archive.open(_deflated(name), "w", force_zip64=True) as out:
        block = byte * (16 << 20)
        for _ in range(size // len(block)):
            out.write(block)


def _copy_except(source: Path, target: Path, skip: str, extra) -> None:
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in archive.infolist():
            if info.filename != skip:
                out.writestr(info.filename, archive.read(info.filename))
        extra(out)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    header = {"descr": "|u1", "fortran_order": False, "shape": shape}
    text = repr(header).encode()
    text += b" " * (63 - (len(text) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def build(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    logreg = next((ROOT / "models").glob("logreg-*.skops"))
    bombs = {name: folder / name for name in ("schema-1GiB.skops", "array-1GiB.skops", "liar-1GiB.skops",
                                              "weights-2GiB.keras", "keras-inside.skops")}
    if all(path.exists() for path in bombs.values()):
        return bombs
    with zipfile.ZipFile(logreg) as archive:
        schema = archive.read("schema.json")
        largest = max((i for i in archive.infolist() if i.filename.endswith(".npy")), key=lambda i: i.file_size)

    def padded_schema(out):
        with out.open(_deflated("schema.json"), "w", force_zip64=True) as member:
            member.write(schema)
            block = b" " * (16 << 20)
            for _ in range(GiB // len(block)):
                member.write(block)

    _copy_except(logreg, bombs["schema-1GiB.skops"], "schema.json", padded_schema)

    def big_array(out):
        with out.open(_deflated(largest.filename), "w", force_zip64=True) as member:
            member.write(_npy_header((GiB,)))
            block = b"\0" * (16 << 20)
            for _ in range(GiB // len(block)):
                member.write(block)

    _copy_except(logreg, bombs["array-1GiB.skops"], largest.filename, big_array)
    # the liar: the same member, its declared size rewritten to 1,000 bytes
    liar = bombs["liar-1GiB.skops"]
    _copy_except(logreg, liar, largest.filename, lambda out: _stream_member(out, largest.filename, GiB))
    with zipfile.ZipFile(liar) as archive:
        info = archive.getinfo(largest.filename)
    data = bytearray(liar.read_bytes())
    name = largest.filename.encode()
    # the central directory's 4-byte size (what readers believe), and the local header's zip64 copy
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + length] == name:
            data[at + 24 : at + 28] = (1000).to_bytes(4, "little")
        start = at + 4
    true = info.file_size.to_bytes(8, "little")
    if (at := data.find(true)) >= 0:
        data[at : at + 8] = (1000).to_bytes(8, "little")
    liar.write_bytes(bytes(data))

    keras = bombs["weights-2GiB.keras"]
    with zipfile.ZipFile(keras, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("metadata.json", json.dumps({"keras_version": "3.0.0"}))
        out.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {}}))
        _stream_member(out, "model.weights.h5", 2 * GiB)

    import skops.io
    from sklearn.pipeline import Pipeline

    from workbench.imported import DIGITS, KerasDigitClassifier
    from workbench.transforms import MnistNormalize

    inner = KerasDigitClassifier()
    inner.keras_file_, inner.classes_ = np.frombuffer(keras.read_bytes(), np.uint8), DIGITS
    skops.io.dump(Pipeline([("normalize", MnistNormalize()), ("clf", inner)]), bombs["keras-inside.skops"])
    return bombs


def _in_process(path: Path) -> tuple[float, float, str]:
    """The check that refuses it, in this process: seconds, peak MB of Python allocations, message."""
    import skops.io  # noqa: F401  (imported before the clock starts: what is measured is the check)

    from workbench.imported import import_model
    from workbench.store import load_model_file

    tracemalloc.start()
    started = time.perf_counter()
    try:
        if path.suffix == ".keras":
            import_model(path)
        else:
            model = load_model_file(path)
            model.predict_proba(np.zeros((1, 28, 28), np.uint8))  # a Keras file inside is rebuilt here
        message = "ACCEPTED"
    except ValueError as exc:
        message = str(exc)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return seconds, peak, message


def _as_a_process(argv: list[str], folder: Path) -> tuple[float, float, int]:
    """A command as a whole process, through a wrapper with no other child: wall seconds, peak
    resident MB (the child's), exit code."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], capture_output=True); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    env = {**os.environ, "WORKBENCH_MODELS": str(folder / "models"), "WORKBENCH_LOG": str(folder / "log.sqlite")}
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, check=True, env=env)
    seconds, kib, code = out.stdout.split()
    return float(seconds), int(kib) / 1024, int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/model-bombs"))
    args = parser.parse_args()
    started = time.perf_counter()
    bombs = build(args.folder)
    (args.folder / "models").mkdir(exist_ok=True)
    print(f"bombs in {args.folder} ({time.perf_counter() - started:.0f} s to build or find)")
    workbench = str(Path(sys.executable).with_name("workbench"))
    image = str(ROOT / "docs" / "examples" / "drawing.png")
    print(f"{'file':22} {'on disk':>9} {'check':>8} {'peak':>9}   {'command':44} {'wall':>7} {'peak RSS':>9} exit")
    wall, rss, code = _as_a_process([workbench, "predict", "--model", str(ROOT / "models" / "logreg.json"), image],
                                    args.folder)
    print(f"{'(the shipped logreg)':22} {'':>9} {'':>8} {'':>9}   {'predict --model logreg.json drawing.png':44} "
          f"{wall:6.2f}s {rss:7.0f}MB {code}")
    for name, path in bombs.items():
        seconds, peak, message = _in_process(path)
        if path.suffix == ".keras":
            argv = [workbench, "import", str(path), "--name", "bomb"]
        else:
            argv = [workbench, "predict", "--model", str(path), image]
        wall, rss, code = _as_a_process(argv, args.folder)
        shown = " ".join(Path(a).name if "/" in a else a for a in argv[1:])
        print(f"{name:22} {path.stat().st_size / 1e6:7.1f}MB {seconds:7.3f}s {peak:7.1f}MB   {shown:44} "
              f"{wall:6.2f}s {rss:7.0f}MB {code}")
        print(f"{'':22} refused: {message[:150]}")


if __name__ == "__main__":
    main()

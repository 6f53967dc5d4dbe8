"""Careless and hostile use of the command line: every mistake is one line naming the problem,
exit status 2 (usage) or 1 (a file that cannot be read), and nothing half-done is left behind.
Also the data and log checks those commands rely on."""

import gzip
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from workbench import data, load_mnist
from workbench.cli import main
from workbench.live.log import PredictionLog


def _one_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.fixture
def log_path(tmp_path, monkeypatch):
    """A prediction log with five records (WORKBENCH_LOG points at it)."""
    path = tmp_path / "log.sqlite"
    monkeypatch.setenv("WORKBENCH_LOG", str(path))
    X, y = load_mnist("test", subset=10)
    with PredictionLog(path) as log:
        for i in range(5):
            log.add("draw", "logreg", "sha", int(y[i]), 0.9, np.full(10, 0.1), 1.0, X[i])
    return path


def _corrected(path):
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, corrected_label FROM predictions"))


# ---- fit: check before the work ----------------------------------------------------------------------

def test_a_bad_model_name_is_refused_before_fitting(models_dir, capsys, monkeypatch):
    import workbench.evaluate

    def never(*args, **kwargs):
        raise AssertionError("fitted before the name was checked")

    monkeypatch.setattr(workbench.evaluate, "fit_pipeline", never)
    assert main(["fit", "cnn", "--name", "../../x"]) == 2
    _one_error(capsys, "model name '../../x'")


def test_a_parameter_that_removes_the_classifier_is_refused_before_fitting(models_dir, capsys):
    assert main(["fit", "logreg", "--param", "clf=passthrough", "--subset", "100", "--name", "lr"]) == 2
    _one_error(capsys, "no longer ends in a classifier")
    assert not models_dir.exists() or not list(models_dir.iterdir())


@pytest.mark.parametrize("argv", [["fit", "logreg", "--subset", "0"], ["fit", "logreg", "--subset", "-5"],
                                  ["log", "--limit", "0"], ["log", "--limit", "-1"]])
def test_counts_below_one_are_usage_errors(argv, capsys, log_path):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "must be a whole number >= 1" in capsys.readouterr().err


# ---- data files --------------------------------------------------------------------------------------

def _idx(values: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, values.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in values.shape)
    return header + values.astype(np.uint8).tobytes()


def test_labels_outside_0_to_9_are_a_data_error_naming_the_file(tmp_path, capsys):
    X, y = load_mnist("test", subset=20)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(_idx(X))
    y = y.copy()
    y[3] = 11
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(y))
    message = rf"{tmp_path}: labels must be digits 0-9; 1 of 20 are not \(the first is 11, at index 3\)"
    with pytest.raises(data.DataError, match=message):
        load_mnist("test", path=tmp_path)
    assert main(["evaluate", "logreg", "--data", str(tmp_path)]) == 1
    _one_error(capsys, "labels must be digits 0-9")


@pytest.mark.parametrize("bad", [np.nan, 2.5, -1.0, np.inf])
def test_npz_labels_that_are_not_digits_are_a_data_error(tmp_path, bad):
    X, y = load_mnist("test", subset=20)
    labels = y.astype(np.float64)
    labels[0] = bad
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=X, y_train=labels, x_test=X, y_test=y)
    with pytest.raises(data.DataError, match=rf"{path}: labels must be digits 0-9"):
        load_mnist("train", path=path)
    assert load_mnist("test", path=path)[1].dtype == np.int64  # whole-number labels are fine


def test_a_gzip_bomb_is_refused_after_the_declared_size(tmp_path):
    """A header declaring 10 labels followed by 1 GB of zeros (1 MB compressed): reading stops
    one byte past what the header declares instead of inflating everything."""
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big"))
        block = bytes(1 << 20)
        for _ in range(1024):
            f.write(block)
    assert path.stat().st_size < 2_000_000
    code = (
        "import resource, sys\n"
        "from workbench.data import read_idx, DataError\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    read_idx({str(path)!r})\n"
        "except DataError as exc:\n"
        "    print(exc)\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.split("\n")
    assert "holds more than the 10 data bytes its header (10,) needs" in out[0]
    assert int(out[1]) < 50  # MB of peak memory grown while reading (the whole file inflates to 1 GB)


def test_an_absurd_declared_size_is_refused_from_the_header(tmp_path):
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"\x7f\xff\xff\xff" * 3)
    with pytest.raises(data.DataError, match="more than the 2 GiB the workbench reads"):
        data.read_idx(path)


# ---- model metadata -------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message",
                         [({"file": ".."}, '"file" must be'), ({"sha256": 12345}, '"sha256" must be')])
def test_metadata_with_a_bad_field_is_one_line(models_dir, change, message, capsys):
    import shutil
    from pathlib import Path

    models_dir.mkdir()
    for path in (Path(__file__).resolve().parents[1] / "models").glob("logreg*"):
        shutil.copy(path, models_dir)
    meta = json.loads((models_dir / "logreg.json").read_text())
    (models_dir / "logreg.json").write_text(json.dumps({**meta, **change}))
    assert main(["evaluate", "logreg"]) == 1
    _one_error(capsys, message)


# ---- the log command ------------------------------------------------------------------------------

def test_corrections_are_labels_0_to_9(log_path, capsys):
    assert main(["log", "--correct", "1=11"]) == 2
    _one_error(capsys, "a label is a digit 0-9")
    with pytest.raises(ValueError, match="a corrected label is a digit 0-9"):
        PredictionLog(log_path).correct(1, 10)
    assert _corrected(log_path) == dict.fromkeys(range(1, 6))


def test_all_corrections_are_checked_before_any_is_written(log_path, capsys):
    assert main(["log", "--correct", "1=5", "--correct", "2=x"]) == 2
    _one_error(capsys, "got '2=x'")
    assert main(["log", "--correct", "1=5", "--correct", "99=3"]) == 2
    _one_error(capsys, "no record 99")
    assert main(["log", "--correct", "1=5", "--correct", "99999999999999999999=1"]) == 2
    _one_error(capsys, "no record 99999999999999999999")
    assert _corrected(log_path) == dict.fromkeys(range(1, 6))  # nothing was written
    assert main(["log", "--correct", "1=5", "--correct", "2=7"]) == 0
    assert _corrected(log_path) == {1: 5, 2: 7, 3: None, 4: None, 5: None}


def test_records_damaged_by_hand_are_no_training_data(log_path):
    with sqlite3.connect(log_path) as db:
        db.execute("UPDATE predictions SET corrected_label = 3")
        db.execute("UPDATE predictions SET image = x'00ff' WHERE id = 2")  # not 784 bytes
        db.execute("UPDATE predictions SET corrected_label = 'seven' WHERE id = 3")
        db.execute("UPDATE predictions SET corrected_label = 12 WHERE id = 4")
    with PredictionLog(log_path) as log:
        X, y = log.corrections()
        assert X.shape == (2, 28, 28) and list(y) == [3, 3] and log.count_corrections() == 2


def test_export_into_a_missing_folder_or_onto_a_folder(log_path, tmp_path, capsys):
    assert main(["log", "--export", str(tmp_path / "nope" / "x.csv")]) == 2
    _one_error(capsys, "there is no folder")
    (tmp_path / "dir.csv").mkdir()
    assert main(["log", "--export", str(tmp_path / "dir.csv")]) == 2
    _one_error(capsys, "it is a folder")
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_record_whose_time_is_not_a_time_breaks_nothing(log_path, tmp_path, capsys):
    with sqlite3.connect(log_path) as db:
        db.execute("UPDATE predictions SET time = 'yesterday' WHERE id = 2")
        db.execute("UPDATE predictions SET probabilities = '{broken' WHERE id = 3")
    assert main(["log"]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 6 and "yesterday" not in out
    assert main(["log", "--correct", "2=4"]) == 0
    capsys.readouterr()
    for suffix in (".csv", ".parquet"):
        assert main(["log", "--export", str(tmp_path / f"out{suffix}")]) == 0
        assert "exported 5 records" in capsys.readouterr().out


def test_a_log_with_another_schema_is_refused(tmp_path, capsys):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE predictions (id INTEGER PRIMARY KEY, what TEXT)")
    assert main(["log", "--log", str(path)]) == 1
    _one_error(capsys, "is not a prediction log of this workbench", "id, what")


def test_reading_a_log_that_is_not_there_creates_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["log", "--log", "typo/deep/x.sqlite"]) == 1
    _one_error(capsys, "there is no prediction log at typo/deep/x.sqlite")
    assert not (tmp_path / "typo").exists()


# ---- other commands ------------------------------------------------------------------------------

def test_an_empty_search_value_is_one_line(capsys):
    assert main(["search", "logreg", "--param", "clf__C=,"]) == 2
    _one_error(capsys, "--param takes KEY=V1,V2")
    assert main(["search", "logreg", "--param", "clf__C=-1,1", "--subset", "100", "--folds", "2"]) == 2
    _one_error(capsys, "'C' parameter of LogisticRegression")


def test_a_closed_pipe_is_not_an_error():
    done = subprocess.run(f"{sys.executable} -m workbench.cli list | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.count("\n") == 1 and done.stderr == ""


def test_something_that_is_not_a_dask_scheduler_is_named(capsys):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer():  # an HTTP server, say
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" * 50)
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        assert main(["cv", "logreg", "--subset", "100", "--folds", "2", "--scheduler", address]) == 2
    finally:
        server.close()
    _one_error(capsys, f"what answers at {address} is not a Dask scheduler")


def test_a_scheduler_without_workers_is_named(capsys, monkeypatch):
    from dask.distributed import LocalCluster

    import workbench.distributed

    monkeypatch.setattr(workbench.distributed, "WORKER_WAIT", 2)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        started = time.monotonic()
        assert main(["cv", "logreg", "--subset", "100", "--folds", "2", "--scheduler", cluster.scheduler_address]) == 2
        assert time.monotonic() - started < 60
    _one_error(capsys, "has no workers", "dask worker")

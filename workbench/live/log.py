"""The prediction log: every live prediction in an SQLite database, with user corrections.

One row per digit read: time, source (draw, camera, file), model name and SHA-256, label,
confidence, the ten probabilities, latency, the 28x28 image the model saw, and the corrected
label once the user gives one. The database runs in WAL mode: a committed record survives the
process being killed, readers never block the writer, and two processes can log at once.
Corrected records are a dataset: :meth:`PredictionLog.corrections` returns ``(X, y)`` to score
any model on the user's own handwriting.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import numpy as np

SOURCES = ("draw", "camera", "file")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,              -- seconds since the epoch (UTC)
    source TEXT NOT NULL,            -- draw, camera or file
    model TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    label INTEGER,                   -- NULL when the model was unsure
    confidence REAL NOT NULL,
    probabilities TEXT NOT NULL,     -- JSON list, one per class
    latency_ms REAL NOT NULL,
    image BLOB NOT NULL,             -- 28x28 uint8, row-major: what the model saw
    corrected_label INTEGER          -- set by the user when the model was wrong
)
"""


def default_log_path() -> Path:
    """``$WORKBENCH_LOG`` if set, else ``predictions.sqlite`` in the user's data folder
    (``~/.local/share/workbench`` on Linux)."""
    if os.environ.get("WORKBENCH_LOG"):
        return Path(os.environ["WORKBENCH_LOG"]).expanduser()
    import platformdirs

    return platformdirs.user_data_path("workbench") / "predictions.sqlite"


class LogError(RuntimeError):
    """The prediction log cannot be opened or written; the message names the path."""


class PredictionLog:
    """Append-only log of predictions in SQLite (WAL mode); safe to share between threads.

    Parameters
    ----------
    path : str or Path, optional
        The database file (created with its folder when missing); default
        :func:`default_log_path`.

    Examples
    --------
    >>> log = PredictionLog(tmp_path / "log.sqlite")                     # doctest: +SKIP
    >>> row = log.add("draw", "cnn", "ab12...", 7, 0.99, probs, 1.2, image)  # doctest: +SKIP
    >>> log.correct(row, 1)                                              # doctest: +SKIP
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path).expanduser() if path is not None else default_log_path()
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
            self._set_up(deadline=time.monotonic() + 30)
        except (OSError, sqlite3.Error) as exc:
            raise LogError(f"cannot open the prediction log {self.path}: {exc}") from exc

    def _set_up(self, deadline: float) -> None:
        """WAL mode and the table. Switching to WAL does not wait for another process that is
        creating the same log (SQLite answers "database is locked" at once), so retry."""
        while True:
            try:
                if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    self._db.execute("PRAGMA journal_mode=WAL")
                # NORMAL in WAL mode: a commit is in the OS before it returns, so it survives
                # the process being killed; only a power cut can lose the last commits.
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def add(
        self,
        source: str,
        model: str,
        model_sha256: str,
        label: int | None,
        confidence: float,
        probabilities,
        latency_ms: float,
        image: np.ndarray,
        *,
        at: float | None = None,
    ) -> int:
        """Append one prediction and commit it; returns its id."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
        image = np.asarray(image)
        if image.shape != (28, 28) or image.dtype != np.uint8:
            raise ValueError(f"image must be a (28, 28) uint8 array; got {image.shape} {image.dtype}")
        row = (
            time.time() if at is None else at, source, model, model_sha256,
            None if label is None else int(label), float(confidence),
            json.dumps([round(float(p), 6) for p in np.asarray(probabilities).ravel()]),
            float(latency_ms), image.tobytes(),
        )
        with self._lock:
            try:
                cursor = self._db.execute(
                    "INSERT INTO predictions (time, source, model, model_sha256, label, confidence,"
                    " probabilities, latency_ms, image) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.Error as exc:
                raise LogError(f"cannot write to the prediction log {self.path}: {exc}") from exc
        return int(cursor.lastrowid)

    def add_reading(self, reading, source: str) -> list[int]:
        """Log every digit of a :class:`~workbench.live.frame.Reading`; returns their ids."""
        latency_ms = 1000 * reading.seconds
        return [
            self.add(source, reading.model, reading.model_sha256, d.label, d.confidence, d.probabilities,
                     latency_ms, d.image)
            for d in reading.digits
        ]

    def correct(self, record_id: int, label: int | None) -> None:
        """Set (or with None clear) the right label of a record."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE predictions SET corrected_label = ? WHERE id = ?",
                (None if label is None else int(label), int(record_id)),
            )
        if cursor.rowcount == 0:
            raise KeyError(f"no record {record_id} in the prediction log {self.path}")

    def frame(self, limit: int | None = None):
        """The log as a pandas DataFrame, newest first (``limit`` rows at most)."""
        import pandas as pd

        query = "SELECT * FROM predictions ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        with self._lock:
            rows = self._db.execute(query, (int(limit),) if limit else ()).fetchall()
            columns = [c[0] for c in self._db.execute("SELECT * FROM predictions LIMIT 0").description]
        table = pd.DataFrame(rows, columns=columns)
        table["time"] = pd.to_datetime(table["time"], unit="s", utc=True)
        table["probabilities"] = table["probabilities"].map(json.loads)
        for column in ("label", "corrected_label"):
            table[column] = table[column].astype("Int64")
        return table

    def export(self, path: str | Path) -> Path:
        """Write the log to ``.csv`` (image as 784 hex bytes) or ``.parquet``; returns the path."""
        path = Path(path)
        table = self.frame().iloc[::-1]
        if path.suffix == ".csv":
            table = table.assign(
                image=table["image"].map(bytes.hex), probabilities=table["probabilities"].map(json.dumps)
            )
            table.to_csv(path, index=False)
        elif path.suffix == ".parquet":
            table.to_parquet(path, index=False)
        else:
            raise ValueError(f"export to .csv or .parquet, not {path.suffix or 'a file without suffix'!r}")
        return path

    def corrections(self) -> tuple[np.ndarray, np.ndarray]:
        """Records with a corrected label as a dataset: ``X`` (n, 28, 28) uint8, ``y`` (n,)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT image, corrected_label FROM predictions WHERE corrected_label IS NOT NULL ORDER BY id"
            ).fetchall()
        X = np.frombuffer(b"".join(r[0] for r in rows), np.uint8).reshape(-1, 28, 28)
        return X, np.array([r[1] for r in rows], dtype=np.int64)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

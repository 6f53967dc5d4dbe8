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
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

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
    corrected_label INTEGER,         -- set by the user (a correction, or a confirmation of the label)
    origin TEXT                      -- the file read, or the camera source; NULL for a drawing
)
"""


COLUMNS = ["id", "time", "source", "model", "model_sha256", "label", "confidence", "probabilities",
           "latency_ms", "image", "corrected_label", "origin"]
LABELS = range(10)
_EXPORT_CHUNK = 5000  # records per chunk of an export: memory stays bounded for any log size


def default_log_path() -> Path:
    """``$WORKBENCH_LOG`` if set, else ``predictions.sqlite`` in the user's data folder
    (``~/.local/share/workbench`` on Linux)."""
    if os.environ.get("WORKBENCH_LOG"):
        return Path(os.environ["WORKBENCH_LOG"]).expanduser()
    import platformdirs

    return platformdirs.user_data_path("workbench") / "predictions.sqlite"


def _json_or_none(text):
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


class LogError(RuntimeError):
    """The prediction log cannot be opened or written; the message names the path."""


def _damaged(path: Path, problem) -> LogError:
    """The error for a log whose file SQLite finds damaged, with how to get its records back."""
    recovered = path.with_name(f"{path.stem}.recovered{path.suffix}")
    return LogError(f"the prediction log {path} is damaged ({problem}); nothing more is written to it. "
                    f"Recover its records with: sqlite3 {path} .recover | sqlite3 {recovered} (then use that "
                    "file), or move it aside to start a fresh log")


def _is_damage(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and any(
        words in str(exc) for words in ("malformed", "not a database", "corrupt"))


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

    def __init__(self, path: str | Path | None = None, *, create: bool = True):
        self.path = Path(path).expanduser() if path is not None else default_log_path()
        self._lock = threading.Lock()
        if not create and not self.path.is_file():
            raise LogError(f"there is no prediction log at {self.path}" + (
                "" if self.path.parent.is_dir() else f" (no folder {self.path.parent})"))
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
            self._set_up(deadline=time.monotonic() + 30)
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(predictions)")]
            if columns == COLUMNS[:-1]:  # a log of a workbench before `origin`: add the column
                self._db.execute("ALTER TABLE predictions ADD COLUMN origin TEXT")
                columns = COLUMNS
            # Damage SQLite finds only when it reads the damaged page: a log that fails its
            # check is never written into (a write could spread the damage or be lost).
            check = self._db.execute("PRAGMA quick_check").fetchall() if columns == COLUMNS else [("ok",)]
        except (OSError, sqlite3.Error) as exc:
            if hasattr(self, "_db"):
                self._db.close()
            raise self._failure(exc, f"cannot open the prediction log {self.path}: {exc}") from exc
        if columns != COLUMNS:
            self._db.close()
            raise LogError(f"{self.path} is not a prediction log of this workbench: its predictions table has "
                           f"the columns {', '.join(columns)}, not {', '.join(COLUMNS)}")
        if check != [("ok",)]:
            self._db.close()
            problems = [line for row in check for line in str(row[0]).splitlines() if not line.startswith("***")]
            raise _damaged(self.path, f"SQLite's check finds {len(problems)} problem{'s' * (len(problems) != 1)}, "
                                      f"the first: {problems[0] if problems else check[0][0]}")

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
        origin: str | None = None,
    ) -> int:
        """Append one prediction and commit it; returns its id. ``origin``: the file read or the
        camera source, shown by ``workbench log``."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
        image = np.asarray(image)
        if image.shape != (28, 28) or image.dtype != np.uint8:
            raise ValueError(f"image must be a (28, 28) uint8 array; got {image.shape} {image.dtype}")
        row = (
            time.time() if at is None else at, source, model, model_sha256,
            None if label is None else int(label), float(confidence),
            json.dumps([round(float(p), 6) for p in np.asarray(probabilities).ravel()]),
            float(latency_ms), image.tobytes(), origin,
        )
        with self._lock:
            try:
                cursor = self._db.execute(
                    "INSERT INTO predictions (time, source, model, model_sha256, label, confidence,"
                    " probabilities, latency_ms, image, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except sqlite3.Error as exc:
                raise self._failure(exc, f"cannot write to the prediction log {self.path}: {exc}") from exc
        return int(cursor.lastrowid)

    def add_reading(self, reading, source: str, origin: str | None = None) -> list[int]:
        """Log every digit of a :class:`~workbench.live.reading.Reading`; returns their ids."""
        latency_ms = 1000 * reading.seconds
        return [
            self.add(source, reading.model, reading.model_sha256, d.label, d.confidence, d.probabilities,
                     latency_ms, d.image, origin=origin)
            for d in reading.digits
        ]

    def correct(self, record_id: int, label: int | None) -> None:
        """Set (or with None clear) the right label (0-9) of a record."""
        self.correct_many({record_id: label})

    def correct_many(self, labels: dict[int, int | None]) -> None:
        """Set the right labels of several records ``{id: label}``: all of them are checked
        first, then written in one transaction, so a bad one leaves the log unchanged.

        Raises
        ------
        ValueError
            A label that is not a digit 0-9 (or None, to clear it).
        KeyError
            An id that names no record.
        """
        for record_id, label in labels.items():
            if label is not None and (isinstance(label, bool) or label not in LABELS):
                raise ValueError(f"a corrected label is a digit 0-9, got {label!r} for record {record_id}")
        with self._lock:
            missing = [r for r in labels if not (isinstance(r, int) and 1 <= r < 2**63) or not self._select(
                "SELECT 1 FROM predictions WHERE id = ?", (r,))]
            if missing:
                raise KeyError(f"no record {missing[0]} in the prediction log {self.path}")
            try:
                self._db.execute("BEGIN IMMEDIATE")  # one transaction: all of them or none
                try:
                    self._db.executemany("UPDATE predictions SET corrected_label = ? WHERE id = ?",
                                         [(None if v is None else int(v), r) for r, v in labels.items()])
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise LogError(f"cannot write to the prediction log {self.path}: {exc}") from exc

    def _table(self, rows) -> pd.DataFrame:
        """Rows of the predictions table as a DataFrame; a value of the wrong kind (a time that
        is not a number, probabilities that are not JSON) becomes missing, not an error."""
        import pandas as pd

        table = pd.DataFrame(rows, columns=COLUMNS)
        table["time"] = pd.to_datetime(pd.to_numeric(table["time"], errors="coerce"), unit="s", utc=True,
                                       errors="coerce")
        table["probabilities"] = table["probabilities"].map(_json_or_none)
        for column in ("label", "corrected_label"):
            table[column] = pd.to_numeric(table[column], errors="coerce").astype("Int64")
        for column in ("confidence", "latency_ms"):
            table[column] = pd.to_numeric(table[column], errors="coerce")
        return table

    def frame(self, limit: int | None = None) -> pd.DataFrame:
        """The log as a pandas DataFrame, newest first (``limit`` rows at most, >= 1)."""
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        query = "SELECT * FROM predictions ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        with self._lock:
            rows = self._select(query, (int(limit),) if limit else ())
        return self._table(rows)

    def _failure(self, exc: Exception, message: str) -> LogError:
        """The error to raise for ``exc``: a damaged file's (with how to recover its records), else
        ``message``."""
        return _damaged(self.path, exc) if _is_damage(exc) else LogError(message)

    def _select(self, query: str, parameters=()) -> list:
        """The rows of a query; a failure (a page damaged after the log was opened) is a LogError."""
        try:
            return self._db.execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._failure(exc, f"cannot read the prediction log {self.path}: {exc}") from exc

    def export(self, path: str | Path) -> Path:
        """Write the log, oldest first, to ``.csv`` (probabilities as JSON, image as 784 hex
        bytes) or ``.parquet``; returns the path.

        Streams the log in chunks of :data:`_EXPORT_CHUNK` records, so memory stays bounded
        whatever its size; the file appears complete or not at all (written under a temporary
        name, then renamed).
        """
        path = Path(path).expanduser()
        if path.suffix not in (".csv", ".parquet"):
            raise ValueError(f"export to .csv or .parquet, not {path.suffix or 'a file without suffix'!r}")
        if path.is_dir():
            raise ValueError(f"cannot export to {path}: it is a folder; give a file name ending in {path.suffix}")
        if not path.parent.is_dir():
            raise ValueError(f"cannot export to {path}: there is no folder {path.parent}")
        tmp = path.with_name(f".{path.name}.tmp")
        # A connection of its own: one read transaction (a snapshot of the log) that does not
        # hold up the writers (WAL), however long the export takes.
        reader = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            cursor = reader.execute("SELECT * FROM predictions ORDER BY id")
            if path.suffix == ".csv":
                self._export_csv(cursor, tmp)
            else:
                self._export_parquet(cursor, tmp)
            os.replace(tmp, path)
        except (OSError, sqlite3.Error) as exc:
            raise self._failure(exc, f"cannot export the prediction log to {path}: {exc}") from exc
        finally:
            reader.close()
            tmp.unlink(missing_ok=True)
        return path

    def _chunks(self, reader):
        while rows := reader.fetchmany(_EXPORT_CHUNK):
            yield self._table(rows)

    def _export_csv(self, reader, path: Path) -> None:
        with open(path, "w", newline="") as file:
            header = True
            for table in self._chunks(reader):
                table = table.assign(image=table["image"].map(bytes.hex),
                                     probabilities=table["probabilities"].map(json.dumps))
                table.to_csv(file, index=False, header=header)
                header = False
            if header:  # an empty log: the header alone
                file.write(",".join(COLUMNS) + "\n")

    def _export_parquet(self, reader, path: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema([
            ("id", pa.int64()), ("time", pa.timestamp("ns", tz="UTC")), ("source", pa.string()),
            ("model", pa.string()), ("model_sha256", pa.string()), ("label", pa.int64()),
            ("confidence", pa.float64()), ("probabilities", pa.list_(pa.float64())), ("latency_ms", pa.float64()),
            ("image", pa.binary()), ("corrected_label", pa.int64()), ("origin", pa.string()),
        ])
        writer = None
        try:
            for table in self._chunks(reader):
                chunk = pa.Table.from_pandas(table, schema=schema, preserve_index=False)
                if writer is None:  # the first chunk's pandas metadata: nullable labels read back as Int64
                    schema = schema.with_metadata(chunk.schema.metadata)
                    writer = pq.ParquetWriter(path, schema)
                writer.write_table(chunk.replace_schema_metadata(schema.metadata))
            if writer is None:  # an empty log
                writer = pq.ParquetWriter(path, schema)
        finally:
            if writer is not None:
                writer.close()

    #: The records :meth:`corrections` returns: a corrected label 0-9 and an intact image (a
    #: record damaged by hand, its image not 784 bytes or its label not a digit, is left out).
    _CORRECTED = ("WHERE typeof(corrected_label) = 'integer' AND corrected_label BETWEEN 0 AND 9 "
                  "AND typeof(image) = 'blob' AND length(image) = 784")

    def corrections(self) -> tuple[np.ndarray, np.ndarray]:
        """Records with a corrected label as a dataset: ``X`` (n, 28, 28) uint8, ``y`` (n,)."""
        with self._lock:
            rows = self._select(f"SELECT image, corrected_label FROM predictions {self._CORRECTED} ORDER BY id")
        X = np.frombuffer(b"".join(r[0] for r in rows), np.uint8).reshape(-1, 28, 28)
        return X, np.array([r[1] for r in rows], dtype=np.int64)

    def count_corrections(self) -> int:
        """How many records :meth:`corrections` would return, without reading their images: the
        labels the user gave, corrections and confirmations alike (see :meth:`count_confirmations`)."""
        with self._lock:
            return self._select(f"SELECT COUNT(*) FROM predictions {self._CORRECTED}")[0][0]

    def count_confirmations(self) -> int:
        """Of those, how many confirm the model's own answer (the label given is the label read)."""
        with self._lock:
            return self._select(f"SELECT COUNT(*) FROM predictions {self._CORRECTED} "
                                "AND corrected_label IS label")[0][0]

    def __len__(self) -> int:
        with self._lock:
            return self._select("SELECT COUNT(*) FROM predictions")[0][0]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""The model store: fitted pipelines on disk, each with a metadata JSON, written atomically and
loaded without running code from the file.

Layout of ``models/``::

    <name>.json                  metadata; the commit point of a save
    <name>-<sha256[:12]>.skops   the fitted pipeline (skops format: no pickle)

A save writes the model file under a new content-addressed name, then atomically replaces
the JSON that points at it, then removes the file the old JSON pointed at. A save killed at
any moment leaves either the old model or the new one, both complete. Loading checks the
file's SHA-256 against the metadata and refuses any type outside the trusted modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

from workbench.data import sha256_file

# Types whose module starts with one of these may be rebuilt from a model file. skops builds
# objects from their state without pickle; it refuses everything else (os.system, eval,
# arbitrary classes) before anything is constructed.
TRUSTED_MODULES = ("sklearn.", "numpy.", "scipy.", "workbench.", "builtins.")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_LIBRARIES = ("workbench", "scikit-learn", "numpy", "scipy", "scikit-image", "keras", "jax", "skops")


class ModelFileError(ValueError):
    """A model file is missing, corrupt, tampered with, or holds untrusted types."""


def models_dir() -> Path:
    """Where models live: ``$WORKBENCH_MODELS``, else the project's ``models/`` folder."""
    if env := os.environ.get("WORKBENCH_MODELS"):
        return Path(env).expanduser()
    project = Path(__file__).resolve().parents[1] / "models"
    return project if project.is_dir() else Path.cwd() / "models"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a fitted model depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for dist in _LIBRARIES:
        try:
            versions[dist] = importlib_metadata.version("digit-workbench" if dist == "workbench" else dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def _check_name(name: str) -> str:
    if not _NAME.match(name) or name.endswith((".json", ".skops")):
        raise ValueError(
            f"model name {name!r} must be 1-100 letters, digits, '_', '-' or '.', "
            "start with a letter or digit, and carry no file extension"
        )
    return name


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; models are meant to be shared and committed
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(pipeline, name: str, *, metadata: dict | None = None, directory: str | Path | None = None) -> Path:
    """Save a fitted pipeline as ``<directory>/<name>`` with its metadata; atomic.

    Parameters
    ----------
    pipeline : fitted sklearn estimator or Pipeline
    name : str
        Model name (letters, digits, ``_ - .``); an existing model of that name is replaced.
    metadata : dict, optional
        What to record with it (pipeline name and parameters, training data and checksum,
        test metrics, fit time, command...). File, size, checksum, versions and creation time
        are added here.
    directory : path, optional
        Defaults to :func:`models_dir`.

    Returns
    -------
    Path
        The metadata JSON file.

    Examples
    --------
    >>> path = save_model(fitted, "logreg-small")            # doctest: +SKIP
    """
    import skops.io

    _check_name(name)
    directory = Path(directory) if directory is not None else models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    blob = skops.io.dumps(pipeline)
    digest = hashlib.sha256(blob).hexdigest()
    model_path = directory / f"{name}-{digest[:12]}.skops"
    meta_path = directory / f"{name}.json"
    previous = _read_metadata(meta_path).get("file") if meta_path.exists() else None
    _atomic_write(model_path, blob)
    record = {
        "name": name,
        **(metadata or {}),
        "file": model_path.name,
        "file_bytes": len(blob),
        "sha256": digest,
        "versions": library_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _atomic_write(meta_path, (json.dumps(record, indent=2, default=str) + "\n").encode())
    if previous and previous != model_path.name:
        (directory / previous).unlink(missing_ok=True)
    return meta_path


def _read_metadata(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"cannot read model metadata {path}: {exc}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("file"), str) or "/" in meta["file"]:
        raise ModelFileError(f"model metadata {path} names no model file")
    return meta


def resolve_model(name_or_path: str | Path, directory: str | Path | None = None) -> tuple[Path, dict]:
    """Find a model: a name in the models folder, or a path to its ``.json`` or ``.skops`` file.

    Returns the model file and its metadata (empty for a bare ``.skops`` with no JSON).
    """
    directory = Path(directory) if directory is not None else models_dir()
    path = Path(name_or_path).expanduser()
    if path.suffix == ".skops":
        if not path.exists():
            raise ModelFileError(f"model file {path} does not exist")
        for candidate in path.parent.glob("*.json"):
            try:
                meta = _read_metadata(candidate)
            except ModelFileError:
                continue
            if meta["file"] == path.name:
                return path, meta
        return path, {}
    meta_path = path if path.suffix == ".json" else directory / f"{_check_name(str(name_or_path))}.json"
    if not meta_path.exists():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.json"))) or "none"
        raise ModelFileError(f"no model {str(name_or_path)!r} in {directory} (saved models: {known})")
    meta = _read_metadata(meta_path)
    return meta_path.parent / meta["file"], meta


def load_model(name_or_path: str | Path, *, directory: str | Path | None = None):
    """Load a fitted pipeline saved by :func:`save_model`.

    The file's SHA-256 must match its metadata, and every type in it must come from a trusted
    module (:data:`TRUSTED_MODULES`); nothing in the file is executed.

    Parameters
    ----------
    name_or_path : str or Path
        A model name in the models folder, or the path of a model's ``.json`` or ``.skops``.

    Returns
    -------
    The fitted pipeline.

    Raises
    ------
    ModelFileError
        Naming the file: missing, truncated or corrupt, checksum mismatch, untrusted types.
    """
    model_path, meta = resolve_model(name_or_path, directory)
    return load_model_file(model_path, meta.get("sha256"))


def load_model_file(path: Path, sha256: str | None = None):
    """Load one ``.skops`` file, checking its SHA-256 when given and its types always."""
    import skops.io

    if not path.exists():
        raise ModelFileError(f"model file {path} does not exist")
    if sha256 is not None and (actual := sha256_file(path)) != sha256:
        raise ModelFileError(
            f"model file {path} fails its checksum (sha256 {actual[:12]}..., metadata says "
            f"{sha256[:12]}...): it is corrupt or was replaced; refit or restore it"
        )
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # zip or JSON damage surfaces as many exception types
        raise ModelFileError(f"model file {path} is corrupt or not a skops file: {exc}") from exc
    refused = [t for t in untrusted if not t.startswith(TRUSTED_MODULES)]
    if refused:
        raise ModelFileError(f"model file {path} holds untrusted types, refused: {', '.join(refused)}")
    try:
        return skops.io.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelFileError(f"model file {path} could not be loaded: {exc}") from exc


def list_models(directory: str | Path | None = None) -> list[dict]:
    """Metadata of every saved model, sorted by name (unreadable entries carry an ``error``)."""
    directory = Path(directory) if directory is not None else models_dir()
    models = []
    for meta_path in sorted(directory.glob("*.json")):
        try:
            models.append(_read_metadata(meta_path))
        except ModelFileError as exc:
            models.append({"name": meta_path.stem, "error": str(exc)})
    return models


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
import io
import json
import logging
import os
import platform
import re
import tempfile
import zipfile
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

from workbench.data import sha256_file
from workbench.files import ArchiveLimits, ArchiveProblem, FileProblem, check_archive, open_regular, read_regular

log = logging.getLogger(__name__)

# Exactly what a model file may contain: (skops loader, type) pairs, the ones the registered
# pipelines produce when fitted and saved (tests/test_pipelines.py fits each one and checks that
# this set is exactly what they need). The loader matters: an ObjectNode is built with
# ``cls.__new__`` and its saved state, while a ConstructorFromReduceNode *calls* its type with
# arguments from the file and a FunctionNode hands out a function. So a trusted class is trusted
# only in the way the pipelines store it, and no bare function is trusted at all. JsonNode
# values are plain JSON (``json.loads``) and need no entry.
TRUSTED_TYPES = frozenset({
    ("DictNode", "builtins.dict"),
    ("ListNode", "builtins.list"),
    ("TupleNode", "builtins.tuple"),
    ("TypeNode", "builtins.str"),
    ("NdArrayNode", "numpy.ndarray"),
    ("NdArrayNode", "numpy.float32"),
    ("NdArrayNode", "numpy.float64"),
    ("NdArrayNode", "numpy.int64"),
    ("ObjectNode", "sklearn.pipeline.Pipeline"),
    ("ObjectNode", "sklearn.linear_model._logistic.LogisticRegression"),
    ("ObjectNode", "sklearn.decomposition._pca.PCA"),
    ("ObjectNode", "sklearn.neighbors._classification.KNeighborsClassifier"),
    ("ObjectNode", "sklearn.ensemble._forest.RandomForestClassifier"),
    ("ObjectNode", "sklearn.tree._classes.DecisionTreeClassifier"),
    ("TreeNode", "sklearn.tree._tree.Tree"),
    ("ObjectNode", "sklearn.svm._classes.SVC"),
    ("ObjectNode", "sklearn.calibration.CalibratedClassifierCV"),
    ("ObjectNode", "sklearn.calibration._CalibratedClassifier"),
    ("ObjectNode", "sklearn.calibration._SigmoidCalibration"),
    ("ObjectNode", "sklearn.ensemble._voting.VotingClassifier"),
    ("ObjectNode", "sklearn.preprocessing._label.LabelEncoder"),
    ("DictNode", "sklearn.utils._bunch.Bunch"),  # VotingClassifier.named_estimators_ (a dict)
    ("ObjectNode", "workbench.transforms.ImageInput"),
    ("ObjectNode", "workbench.transforms.MnistNormalize"),
    ("ObjectNode", "workbench.transforms.Deskew"),
    ("ObjectNode", "workbench.transforms.Hog"),
    ("ObjectNode", "workbench.cnn.CNNClassifier"),
    ("ObjectNode", "workbench.virtual.VirtualSupportVectors"),
    ("ObjectNode", "workbench.deformation.DeformationKNN"),
}) | (IMPORTED_TYPES := frozenset({
    # `workbench import` of a Keras model: the wrapper holds the .keras file's bytes (an array)
    # and rebuilds the network from them with Keras' safe mode (no code from the file runs).
    ("ObjectNode", "workbench.imported.KerasDigitClassifier"),
}))
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

# What a model file may inflate to, checked before anything in it is read (a zip whose members
# inflate a thousandfold would otherwise take the machine's memory). From the workbench's own
# models fitted on all of MNIST, with margin: the largest member is `idm_knn`'s training set
# (47 MB), the largest file `random_forest`'s (292 MB in 1,002 members, its schema 4.3 MB).
MODEL_LIMITS = ArchiveLimits("skops file", members=20_000, member_bytes=256 << 20, total_bytes=1 << 30,
                             named=(("schema.json", 32 << 20),))
METADATA_BYTES = 1 << 20  # a model's metadata JSON (the shipped ones: 1-2 KB)
_LIBRARIES = ("workbench", "scikit-learn", "numpy", "scipy", "scikit-image", "keras", "jax", "skops")


class ModelFileError(ValueError):
    """A model file is missing, corrupt, tampered with, or holds untrusted types."""


def models_dir() -> Path:
    """Where the user's models live, and where ``fit``, ``adapt`` and ``import`` save:
    ``$WORKBENCH_MODELS``, else ``models`` in the platform's user data folder
    (``~/.local/share/workbench/models`` on Linux, beside the prediction log). Never the current
    folder, never the installed package."""
    if env := os.environ.get("WORKBENCH_MODELS"):
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path("workbench") / "models"


def shipped_dir() -> Path:
    """The models that come with the workbench, read-only: ``workbench/models`` in an installed
    package (the wheel carries them as package data), the repository's ``models/`` folder in a
    checkout (where they are made)."""
    installed = Path(__file__).resolve().parent / "models"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "models"


def _folders(directory: str | Path | None) -> list[tuple[Path, str | None]]:
    """Where a model name is looked up, first match first, each with whose models it holds: the
    folder given (None), else the user's models ("yours") and then the shipped ones
    ("shipped"; a model of yours of the same name is used in its place)."""
    return [(Path(directory), None)] if directory is not None else [(models_dir(), "yours"), (shipped_dir(), "shipped")]


def is_shipped(name: str) -> bool:
    """Whether a model of this name comes with the workbench."""
    return (shipped_dir() / f"{name}.json").is_file()


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a fitted model depends on, plus Python's."""
    versions = {"python": platform.python_version()}
    for dist in _LIBRARIES:
        try:
            versions[dist] = importlib_metadata.version("digit-workbench" if dist == "workbench" else dist)
        except importlib_metadata.PackageNotFoundError:
            pass
    return versions


def check_model_name(name: str) -> str:
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

    check_model_name(name)
    directory = Path(directory) if directory is not None else models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    blob = skops.io.dumps(pipeline)
    digest = hashlib.sha256(blob).hexdigest()
    model_path = directory / f"{name}-{digest[:12]}.skops"
    meta_path = directory / f"{name}.json"
    try:  # an unreadable old JSON (truncated, hand-edited) must not block saving a new model
        previous = _read_metadata(meta_path)["file"] if meta_path.exists() else None
    except ModelFileError:
        previous = None
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


_MODEL_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}\.skops$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _number(value, low=None, high=None) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and value == value
            and (low is None or value >= low) and (high is None or value <= high))


def validate_metadata(meta, path: Path) -> dict:
    """Check a model's metadata (what :func:`save_model` writes) and return it keyed by the file
    stem: ``meta["name"]`` is the name the model is loaded by, whatever the JSON says.

    The one place metadata is checked: the listing, the app and loading all go through it, so
    a hand-edited or half-written JSON is one unreadable entry, never a crash.

    Raises
    ------
    ModelFileError
        Naming the file and the first field that is wrong.
    """
    def bad(field, what):
        raise ModelFileError(f"model metadata {path}: {field} {what}")

    if not isinstance(meta, dict):
        bad("the file", f"must hold a JSON object, not {type(meta).__name__}")
    file = meta.get("file")
    if not isinstance(file, str) or not _MODEL_FILE.match(file):
        bad('"file"', f"must be the name of a .skops file in the same folder, got {file!r}")
    if not isinstance(meta.get("sha256"), str) or not _SHA256.match(meta["sha256"]):
        bad('"sha256"', f"must be 64 lowercase hex digits, got {meta.get('sha256')!r}")
    for field in ("pipeline", "description", "created", "command"):
        if field in meta and not isinstance(meta[field], str):
            bad(f'"{field}"', f"must be a string, got {meta[field]!r}")
    for field in ("fit_seconds", "file_bytes", "wall_seconds"):
        if field in meta and not _number(meta[field], low=0):
            bad(f'"{field}"', f"must be a number >= 0, got {meta[field]!r}")
    for field in ("test", "training_data", "versions", "params"):
        if field in meta and not isinstance(meta[field], dict):
            bad(f'"{field}"', f"must be an object, got {meta[field]!r}")
    test = meta.get("test", {})
    for field in ("accuracy", "macro_f1"):
        if field in test and not _number(test[field], 0, 1):
            bad(f'"test.{field}"', f"must be a number in [0, 1], got {test[field]!r}")
    for part in ("test", "training_data"):
        n = meta.get(part, {}).get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            bad(f'"{part}.n"', f"must be a count of images, got {n!r}")
    return {**meta, "name": path.stem}


def _read_metadata(path: Path) -> dict:
    try:  # never a plain read: a FIFO named *.json would block it until something writes to it
        meta = json.loads(read_regular(path, max_bytes=METADATA_BYTES).decode())
    except (FileProblem, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"cannot read model metadata {path}: {exc}") from exc
    return validate_metadata(meta, path)


def resolve_model(name_or_path: str | Path, directory: str | Path | None = None) -> tuple[Path, dict]:
    """Find a model: a name in the models folder, or a path to its ``.json`` or ``.skops`` file.

    A name is looked up in ``directory`` when given, else in the user's models and then the
    shipped ones (:func:`models_dir`, :func:`shipped_dir`). Returns the model file and its
    metadata (empty for a bare ``.skops`` with no JSON).
    """
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
    if path.suffix == ".json":
        if not path.exists():
            raise ModelFileError(f"model metadata file {path} does not exist")
        meta = _read_metadata(path)
        return path.parent / meta["file"], meta
    name = check_model_name(str(name_or_path))
    folders = [folder for folder, _ in _folders(directory)]
    for folder in folders:
        if (folder / f"{name}.json").exists():
            meta = _read_metadata(folder / f"{name}.json")
            return folder / meta["file"], meta
    known = ", ".join(sorted({p.stem for folder in folders for p in folder.glob("*.json")})) or "none"
    where = " or ".join(str(folder) for folder in folders)
    raise ModelFileError(f"no model {name!r} in {where} (saved models: {known})")


def load_model(name_or_path: str | Path, *, directory: str | Path | None = None):
    """Load a fitted pipeline saved by :func:`save_model`.

    The file's SHA-256 must match its metadata, and every object in it must be of a type the
    registered pipelines use, stored the way they store it (:data:`TRUSTED_TYPES`, and those
    the user's and the plugins' pipeline modules declare); the file is checked before anything
    in it is built.

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
    try:
        os.close(open_regular(path))
    except FileProblem as exc:
        raise ModelFileError(f"model file {path}: {exc}") from exc
    if sha256 is not None and (actual := sha256_file(path)) != sha256:
        raise ModelFileError(
            f"model file {path} fails its checksum (sha256 {actual[:12]}..., metadata says "
            f"{sha256[:12]}...): it is corrupt or was replaced; refit or restore it"
        )
    unchecked = "" if sha256 is not None else " (it has no metadata, so no checksum was available to check)"
    try:
        check_archive(path, MODEL_LIMITS)
    except ArchiveProblem as exc:
        raise ModelFileError(f"model file {path} {exc}; refused before loading{unchecked}") from exc
    found = model_types(path)
    refused = sorted(found - TRUSTED_TYPES)
    if refused:  # the user's own pipelines may declare more (only asked when needed: it imports them)
        from workbench.registry import pipeline_trusted_types

        refused = sorted(set(refused) - pipeline_trusted_types())
    if refused:
        names = ", ".join(f"{kind} ({loader})" for loader, kind in refused)
        raise ModelFileError(f"model file {path} holds types the workbench does not trust, refused: {names}"
                             f"{unchecked}; if your own pipeline makes them, register its folder (workbench "
                             "--pipelines DIR or $WORKBENCH_PIPELINES) and declare them in its module's TRUSTED_TYPES")
    if sha256 is None:
        log.warning("model file %s has no metadata: no checksum was available to check; its types were "
                    "checked", path)
    try:
        return skops.io.load(path, trusted=sorted({kind for _, kind in found}))
    except Exception as exc:
        raise ModelFileError(f"model file {path} could not be loaded: {exc}{unchecked}") from exc


def model_types(path: Path | bytes) -> set[tuple[str, str]]:
    """Every ``(loader, type)`` pair a skops file would build, read from its schema without
    building anything (JSON values excepted: they are only parsed).

    Every object in the file is a node ``{"__loader__", "__module__", "__class__", ...}`` in
    ``schema.json``, nested at any depth; all of them are listed, duplicates included (skops
    builds the first copy of a repeated ``__id__``, whichever that is).
    """
    where = "model bytes" if isinstance(path, bytes) else f"model file {path}"
    try:
        with zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except Exception as exc:  # zip or JSON damage surfaces as many exception types
        raise ModelFileError(f"{where} is corrupt or not a skops file: {exc}") from exc
    found, stack = set(), [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "__loader__" in node:
                loader, module, kind = (node.get(k) for k in ("__loader__", "__module__", "__class__"))
                if not all(isinstance(v, str) for v in (loader, module, kind)):
                    raise ModelFileError(f"{where} is corrupt: a node without loader, module or class")
                # A type is its (module, class) pair exactly: a class name holding a dot
                # ("sklearn" + "pipeline.Pipeline") would spell a trusted type's name otherwise.
                if not (kind.isidentifier() and all(part.isidentifier() for part in module.split("."))):
                    raise ModelFileError(f"{where} is corrupt: a node names the type {kind!r} in module {module!r}, "
                                         "not a class name in a module")
                if loader != "JsonNode":
                    found.add((loader, f"{module}.{kind}"))
            stack.extend(node.values())
    return found


def list_models(directory: str | Path | None = None) -> list[dict]:
    """Metadata of every saved model, sorted by name (the JSON file's stem); reads metadata only.

    Without ``directory``: the user's models and the shipped ones, each entry's ``"source"``
    ``"yours"`` or ``"shipped"``; a shipped model that one of yours of the same name stands in
    for is marked ``"shadowed": True`` (its name loads yours). An entry whose metadata cannot be
    read or fails :func:`validate_metadata` is ``{"name": stem, "error": why}``; the others are
    listed and usable as ever.
    """
    models, seen = [], set()
    for folder, source in _folders(directory):
        for meta_path in sorted(folder.glob("*.json")):
            try:
                entry = _read_metadata(meta_path)
            except ModelFileError as exc:
                entry = {"name": meta_path.stem, "error": str(exc)}
            if source is not None:
                entry = {**entry, "source": source, **({"shadowed": True} if entry["name"] in seen else {})}
            seen.add(entry["name"])
            models.append(entry)
    return sorted(models, key=lambda m: (m["name"], m.get("source") == "shipped"))


"""Named pipelines, from three places:

- built in: every module of ``workbench.pipelines`` (the repo's ``pipelines/`` folder);
- the user's folders: every ``NAME.py`` in ``$WORKBENCH_PIPELINES`` / ``workbench --pipelines DIR``
  (:mod:`workbench.user_pipelines`);
- installed plugins: the entry points of the group ``workbench.pipelines``, each naming a
  module (``NAME = "package.module"``).

A pipeline module has a docstring (its first line is the summary shown by ``workbench list``)
and a function ``make_pipeline() -> sklearn.pipeline.Pipeline`` that builds it unfitted with
its default parameters. Parameters are changed with sklearn's own ``step__param`` names. A
module may also set ``TRUSTED_TYPES``: the ``(skops loader, type)`` pairs its fitted models
hold beyond the built-in ones, so that the model store loads them (see
:func:`workbench.store.load_model_file`), and ``QUICK = False`` when even ``workbench compare
--quick``'s small subsets take it many minutes: the quick comparison then leaves it out unless
it is named (:func:`quick_pipelines`).
"""

from __future__ import annotations

import difflib
import importlib
import os
import pkgutil
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

import workbench.pipelines as builtin

ENV = "WORKBENCH_PIPELINES"
GROUP = "workbench.pipelines"


def use_folders(folders: list[str | Path]) -> None:
    """Add folders of user pipelines (``workbench --pipelines DIR``), for this process and the
    worker processes it starts."""
    import workbench.user_pipelines as user

    paths = [str(Path(f).expanduser().resolve()) for f in folders]
    for path in paths:
        if not Path(path).is_dir():
            raise ValueError(f"pipelines folder {path} does not exist or is not a folder")
    user.__path__[:] = list(dict.fromkeys([*user.__path__, *paths]))
    os.environ[ENV] = os.pathsep.join(user.__path__)  # what worker processes read at import


def _sources() -> dict[str, tuple[str, str]]:
    """Every pipeline: name -> (where it comes from, the module to import)."""
    import workbench.user_pipelines as user

    found: dict[str, tuple[str, str]] = {}

    def add(name, source, module):
        if name in found:
            raise ValueError(f"pipeline {name!r} is defined twice: {found[name][0]} and {source}; rename one")
        found[name] = (source, module)

    for m in pkgutil.iter_modules(builtin.__path__):
        if not m.name.startswith("_"):
            add(m.name, "built-in", f"workbench.pipelines.{m.name}")
    for folder in user.__path__:
        for path in sorted(Path(folder).glob("*.py")):
            if not path.stem.startswith("_") and path.stem.isidentifier():
                add(path.stem, str(path), f"workbench.user_pipelines.{path.stem}")
    for point in entry_points(group=GROUP):
        dist = point.dist.name if point.dist is not None else "an installed package"
        add(point.name, f"plugin {dist} ({point.value})", point.value.split(":")[0])  # the module
    return found


def list_pipelines() -> list[str]:
    """Names of the registered pipelines, sorted.

    Examples
    --------
    >>> "logreg" in list_pipelines()
    True
    """
    return sorted(_sources())


def quick_pipelines() -> list[str]:
    """The pipelines ``workbench compare --quick`` compares when none is named: all but those
    whose module sets ``QUICK = False``.

    Examples
    --------
    >>> "logreg" in quick_pipelines(), "cnn_ensemble" in quick_pipelines()
    (True, False)
    """
    return [name for name in list_pipelines() if getattr(_module(name), "QUICK", True)]


def pipeline_source(name: str) -> str:
    """Where a pipeline comes from: ``built-in``, the path of the user's file, or ``plugin ...``."""
    return _lookup(name)[0]


def _lookup(name: str) -> tuple[str, str]:
    """``(source, module)`` of a registered pipeline (the folders and plugins read once)."""
    sources = _sources()
    if name not in sources:
        names = sorted(sources)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown pipeline {name!r}{hint} Registered: {', '.join(names)}")
    return sources[name]


def _module(name: str) -> ModuleType:
    source, module_name = _lookup(name)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"pipeline {name!r} ({source}) could not be imported: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(module, "make_pipeline", None)):
        raise ValueError(f"pipeline {name!r} ({source}) has no make_pipeline() function")
    return module


def pipeline_summary(name: str) -> str:
    """First line of a pipeline module's docstring."""
    return ((_module(name).__doc__ or "").strip().splitlines() or [""])[0]


def pipeline_trusted_types() -> set[tuple[str, str]]:
    """The ``TRUSTED_TYPES`` the user's and the plugins' pipeline modules declare."""
    declared = set()
    for name, (source, _) in _sources().items():
        if source != "built-in":
            declared |= {tuple(pair) for pair in getattr(_module(name), "TRUSTED_TYPES", ())}
    return declared


def get_pipeline(name: str, **params) -> Pipeline:
    """Build the named pipeline, unfitted, with ``params`` applied by ``set_params``.

    Parameters
    ----------
    name : str
        One of :func:`list_pipelines`.
    **params
        Nested sklearn parameter names, e.g. ``clf__C=10`` or ``pca__n_components=40``.

    Returns
    -------
    sklearn.pipeline.Pipeline

    Examples
    --------
    >>> get_pipeline("pca_knn", clf__n_neighbors=5).named_steps["clf"].n_neighbors
    5
    """
    module = _module(name)
    pipe = module.make_pipeline()
    if not isinstance(pipe, Pipeline):
        raise ValueError(f"pipeline {name!r} ({pipeline_source(name)}): make_pipeline() returned a "
                         f"{type(pipe).__name__}, not an sklearn Pipeline")
    if params:
        pipe.set_params(**params)
        if not (is_classifier(pipe) and hasattr(pipe, "predict_proba")):
            raise ValueError(
                f"with {', '.join(f'{k}={v!r}' for k, v in params.items())}, pipeline {name!r} no longer ends in "
                "a classifier with predict_proba; a parameter can change a step, not remove the classifier")
    return pipe

"""Named pipelines: every module in the ``workbench.pipelines`` package is one (the repo's
``pipelines/`` folder, installed under the workbench's own name).

A pipeline module has a docstring (its first line is the summary shown by ``workbench list``)
and a function ``make_pipeline() -> sklearn.pipeline.Pipeline`` that builds it unfitted with
its default parameters. Parameters are changed with sklearn's own ``step__param`` names.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from types import ModuleType

from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

import workbench.pipelines as pipelines


def list_pipelines() -> list[str]:
    """Names of the registered pipelines, sorted.

    Examples
    --------
    >>> "logreg" in list_pipelines()
    True
    """
    return sorted(m.name for m in pkgutil.iter_modules(pipelines.__path__) if not m.name.startswith("_"))


def _module(name: str) -> ModuleType:
    names = list_pipelines()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown pipeline {name!r}{hint} Registered: {', '.join(names)}")
    return importlib.import_module(f"workbench.pipelines.{name}")


def pipeline_summary(name: str) -> str:
    """First line of a pipeline module's docstring."""
    return (_module(name).__doc__ or "").strip().splitlines()[0]


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
    pipe = _module(name).make_pipeline()
    if params:
        pipe.set_params(**params)
        if not (is_classifier(pipe) and hasattr(pipe, "predict_proba")):
            raise ValueError(
                f"with {', '.join(f'{k}={v!r}' for k, v in params.items())}, pipeline {name!r} no longer ends in "
                "a classifier with predict_proba; a parameter can change a step, not remove the classifier")
    return pipe

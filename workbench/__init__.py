"""Digit workbench: compare classical machine learning with a CNN on MNIST, and try the
models live.

The fitted sklearn ``Pipeline`` is the unit of work: built by name from the registry,
cross-validated, saved to the model store, and served to the live app.

>>> import workbench
>>> X, y = workbench.load_mnist("test")
>>> X.shape, X.dtype
((10000, 28, 28), dtype('uint8'))
"""

__version__ = "0.1.0"

# Where each public name lives. They are imported on first use (PEP 562), so that the command
# line's --help, --version and `workbench models` start without scikit-learn or JAX.
_EXPORTS = {
    "load_mnist": "workbench.data",
    "list_pipelines": "workbench.registry",
    "get_pipeline": "workbench.registry",
    "fit_pipeline": "workbench.evaluate",
    "cross_validate": "workbench.evaluate",
    "summarize_cv": "workbench.evaluate",
    "score": "workbench.evaluate",
    "evaluate_model": "workbench.evaluate",
    "save_model": "workbench.store",
    "load_model": "workbench.store",
    "list_models": "workbench.store",
}
__all__ = list(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once: later lookups find it directly
        return value
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])

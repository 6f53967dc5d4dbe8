"""Digit workbench: compare classical machine learning with a CNN on MNIST, and try the
models live.

The fitted sklearn ``Pipeline`` is the unit of work: built by name from the registry,
cross-validated, saved to the model store, and served to the live app.

>>> import workbench
>>> X, y = workbench.load_mnist("test")
>>> X.shape, X.dtype
((10000, 28, 28), dtype('uint8'))
"""

from workbench.data import load_mnist
from workbench.evaluate import cross_validate, evaluate_model, fit_pipeline, score, summarize_cv
from workbench.registry import get_pipeline, list_pipelines
from workbench.store import list_models, load_model, save_model

__version__ = "0.1.0"
__all__ = [
    "load_mnist",
    "list_pipelines",
    "get_pipeline",
    "fit_pipeline",
    "cross_validate",
    "summarize_cv",
    "score",
    "evaluate_model",
    "save_model",
    "load_model",
    "list_models",
]

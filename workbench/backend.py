"""The one place the Keras backend is chosen: import keras through this module.

Keras reads ``KERAS_BACKEND`` once, at its first import, so it is set here before that import
and every other module does ``from workbench.backend import keras``.
"""

import os
import sys

if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "jax") != "jax":
    raise RuntimeError(
        "keras was imported with KERAS_BACKEND="
        f"{os.environ['KERAS_BACKEND']!r} before workbench; the workbench needs the JAX backend: "
        "import workbench first or set KERAS_BACKEND=jax"
    )
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no GPU here; skip the accelerator probe

import jax  # noqa: E402
import keras  # noqa: E402

__all__ = ["jax", "keras"]

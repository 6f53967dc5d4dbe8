"""The one place JAX and Keras are set up: import them through this module.

Keras reads ``KERAS_BACKEND`` once, at its first import, so it is set here before that import
and every other module does ``from workbench.backend import keras`` (or ``jax``). Both are
imported when a module first asks for them, not with this module: a fitted CNN predicts with
JAX alone (:mod:`workbench.cnn_inference`), and Keras takes seconds to import.

:func:`use_compilation_cache` turns on JAX's persistent compilation cache, so that a process
reuses the XLA programs earlier ones compiled (the command line and the app turn it on).
"""

import logging
import os
import sys
from pathlib import Path

if "keras" in sys.modules and os.environ.get("KERAS_BACKEND", "jax") != "jax":
    raise RuntimeError(
        "keras was imported with KERAS_BACKEND="
        f"{os.environ['KERAS_BACKEND']!r} before workbench; the workbench needs the JAX backend: "
        "import workbench first or set KERAS_BACKEND=jax"
    )
os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no GPU here; skip the accelerator probe

__all__ = ["jax", "keras", "use_compilation_cache"]  # noqa: F822 (jax, keras: from __getattr__)

log = logging.getLogger(__name__)

#: ``WORKBENCH_XLA_CACHE``: a folder for the compilation cache, or ``off`` (also ``0``, ``no``,
#: ``false``) for none. Unset: ``xla/`` in the user's cache folder.
CACHE_ENV = "WORKBENCH_XLA_CACHE"
#: The cache's size limit: past it, the least recently used programs go. A limit also makes JAX
#: lock the folder around each read and write, so two processes can share it.
CACHE_MAX_BYTES = 256 * 2**20


def __getattr__(name):  # ``from workbench.backend import jax, keras``: imported on first use
    if name == "jax":
        import jax

        return jax
    if name == "keras":
        import keras

        return keras
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def compilation_cache_dir() -> Path | None:
    """The folder :func:`use_compilation_cache` uses, or None when ``$WORKBENCH_XLA_CACHE`` turns it off."""
    setting = os.environ.get(CACHE_ENV, "").strip()
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return Path(setting).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("workbench")) / "xla"


def use_compilation_cache() -> Path | None:
    """Keep every XLA program this process compiles in a persistent cache, and reuse those of
    earlier processes (the CNN's forward pass: ~0.3 s to compile per batch size, milliseconds to
    load). Call it before the first compilation; it returns the folder, or None when the cache
    is off or the folder cannot be written (then every process compiles, as without a cache).
    Child processes (``compare``'s workers) inherit it.
    """
    folder = compilation_cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        log.info("XLA compilation cache off: %s cannot be written (%s)", folder, exc)
        return None
    settings = {
        "jax_compilation_cache_dir": str(folder),
        # JAX's defaults cache only programs that took a second to compile: ours take a fraction.
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_persistent_cache_min_entry_size_bytes": -1,
        "jax_compilation_cache_max_size": CACHE_MAX_BYTES,
    }
    for name, value in settings.items():  # JAX reads these when it is imported, here and in child processes
        os.environ[name.upper()] = str(value)
    if "jax" in sys.modules:  # already imported: set them in this process too
        import jax

        for name, value in settings.items():
            jax.config.update(name, value)
    return folder

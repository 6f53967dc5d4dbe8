"""Every saved model, loaded once in the background: what the app's model list shows (each
model's one-image latency) and what "compare all models" reads a drawing with."""

from __future__ import annotations

import threading
import time

import numpy as np

from workbench.live.predictor import ActiveModel, load_active


class ModelCatalogue:
    """Saved models loaded in background threads, by name: an :class:`ActiveModel`, or why it
    could not be loaded. Safe to read from the UI thread while it loads."""

    def __init__(self):
        self._models: dict[str, ActiveModel | str] = {}
        self._latency_ms: dict[str, float] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def load(self, models: list[dict], directory=None) -> None:
        """Load, in a background thread, the listed models (``list_models`` entries) that are not
        loaded yet or were saved again since (an adapted model adapted again)."""
        with self._lock:
            names = [m["name"] for m in models if "error" not in m and self._stale(m)]
        thread = threading.Thread(target=self._load_all, args=(names, directory), daemon=True, name="model-catalogue")
        self._threads.append(thread)
        thread.start()

    def _stale(self, meta: dict) -> bool:
        loaded = self._models.get(meta["name"])
        return not isinstance(loaded, ActiveModel) or loaded.sha256 != meta.get("sha256")

    def _load_all(self, names: list[str], directory) -> None:
        image = np.zeros((1, 28, 28), np.uint8)
        image[0, 6:22, 12:16] = 255
        for name in names:
            try:
                model = load_active(name, directory)
                model.pipeline.predict_proba(image)  # the first call compiles (or loads from the cache)
                times = []
                for _ in range(30):
                    start = time.perf_counter()
                    model.pipeline.predict_proba(image)
                    times.append(time.perf_counter() - start)
                with self._lock:
                    self._models[name] = model
                    self._latency_ms[name] = 1000 * float(np.median(times))
            except Exception as exc:  # a model that cannot be loaded is listed with why
                with self._lock:
                    self._models[name] = f"{exc}"

    def get(self, name: str) -> ActiveModel | str | None:
        """The loaded model, why it failed to load, or None while it loads."""
        with self._lock:
            return self._models.get(name)

    def snapshot(self) -> tuple[dict[str, ActiveModel | str], dict[str, float]]:
        """Copies of what is loaded (name -> model or error) and the latencies (ms) measured."""
        with self._lock:
            return dict(self._models), dict(self._latency_ms)

    def close(self, timeout: float = 120) -> None:
        """Wait for the loading to finish: a process that exits while XLA compiles in another
        thread aborts."""
        for thread in self._threads:
            thread.join(timeout=timeout)

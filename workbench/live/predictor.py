"""The Predictor: the active fitted pipeline, swappable at runtime, used by every live input.

A drawing and a camera frame go through the same trained model: both readers bring their
input to MNIST-format 28x28 images, and the Predictor classifies them in one batch.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.live import touching
from workbench.live.canvas import read_canvas
from workbench.live.frame import find_digits
from workbench.live.gate import Gate, refused
from workbench.live.reading import Digit, Reading

DEFAULT_THRESHOLD = 0.7


@dataclass(frozen=True)
class ActiveModel:
    """A loaded model: its name, the SHA-256 of its file, the fitted pipeline and its metadata."""

    name: str
    sha256: str
    pipeline: object
    metadata: dict


def load_active(model: str | Path, directory: str | Path | None = None) -> ActiveModel:
    """Load a saved model (a name in the models folder or a path) for the Predictor."""
    from workbench.store import load_model_file, resolve_model

    path, meta = resolve_model(model, directory)
    pipeline = load_model_file(path, meta.get("sha256"))
    if meta.get("sha256") is None:
        from workbench.store import sha256_file

        meta = {**meta, "sha256": sha256_file(path)}
    name = meta.get("name", Path(model).stem)
    return ActiveModel(name, meta["sha256"], pipeline, meta)


def _same_start(a, b) -> bool:
    """Whether two pipelines begin with the same transformer, one that learns nothing (same
    class and parameters), so that its output can serve both."""
    from sklearn.pipeline import Pipeline
    from sklearn.utils import get_tags

    if not (isinstance(a, Pipeline) and isinstance(b, Pipeline) and len(a) > 1 and len(b) > 1):
        return False
    first, other = a[0], b[0]
    return type(first) is type(other) and not get_tags(first).requires_fit and first.get_params() == other.get_params()


def _warm_up(pipeline) -> None:
    pipeline.predict_proba(np.zeros((1, 28, 28), np.uint8))


class Predictor:
    """Holds the active model; reads drawings and frames with it; swaps it at runtime.

    Safe to call from several threads: each call takes the active model once, so a swap in
    the middle of a call never mixes two models. :meth:`swap` loads the new model in a
    background thread and switches in one assignment when it has loaded; if it fails, the old
    model keeps serving and :attr:`last_error` says why.

    Parameters
    ----------
    model : str, Path or ActiveModel, default="cnn"
        A saved model's name, a path to its ``.json``/``.skops`` file, or a loaded model.
    directory : str or Path, optional
        The models folder (default: the project's ``models/``).
    threshold : float, default=0.7
        Below this confidence a digit is reported as unsure (label None, shown as ``?``).
    gate : bool or Gate, default=True
        Refuse what is not a digit (letters, scribbles, stray marks) whatever the model says:
        True uses the digit gate saved in the models folder (:mod:`workbench.live.gate`) when there
        is one; False reads everything as a digit. A refused digit has label None and
        ``refused`` set, and is left out of the reading's text. Digits cut out of a photo are
        refused at the gate's stricter threshold for photos (a page is right only when every
        digit of it is kept).

    Examples
    --------
    >>> predictor = Predictor("logreg")                                  # doctest: +SKIP
    >>> predictor.read_frame(cv2.imread("page.jpg")).text                # doctest: +SKIP
    '2026'
    """

    def __init__(
        self, model: str | Path | ActiveModel = "cnn", *, directory=None, threshold: float = DEFAULT_THRESHOLD,
        gate=True,
    ):
        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
        self.directory = directory
        self.threshold = threshold
        # The model first: a name that is not there is said before the gate loads.
        self.active = model if isinstance(model, ActiveModel) else load_active(model, directory)
        if gate is True:
            from workbench.live.gate import load_gate

            gate = load_gate(directory)
        self.gate: Gate | None = gate or None
        self.last_error: str | None = None
        self.latencies: deque[float] = deque(maxlen=1000)  # seconds per predict call, newest last
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self._swap_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.active.name

    def swap(self, model: str | Path | ActiveModel) -> Future:
        """Load ``model`` in the background and make it active when loaded.

        Returns a future of the new :class:`ActiveModel`; on failure the future raises the
        error, the current model stays active and :attr:`last_error` holds the message.
        """

        def load():
            try:
                new = model if isinstance(model, ActiveModel) else load_active(model, self.directory)
                _warm_up(new.pipeline)
            except Exception as exc:
                self.last_error = f"could not load model {str(model)!r}: {exc}"
                raise
            with self._swap_lock:
                self.active = new
                self.last_error = None
            return new

        return self._loader.submit(load)

    def warm_up(self) -> None:
        """Run the model and the gate once, so that the first reading does not wait for their
        first-call work (a CNN compiles its forward pass for one image, or loads it from the cache)."""
        _warm_up(self.active.pipeline)
        if self.gate is not None:
            _warm_up(self.gate.pipeline)

    def predict_proba(self, images: np.ndarray, active: ActiveModel | None = None) -> np.ndarray:
        """Class probabilities for a batch of MNIST-format images ``(n, 28, 28)``."""
        active = active or self.active
        start = time.perf_counter()
        proba = np.asarray(active.pipeline.predict_proba(images))
        self.latencies.append(time.perf_counter() - start)
        return proba

    def _judge(self, images: list[np.ndarray], *, photo: bool, active: ActiveModel):
        """The model's probabilities for a batch of 28x28 images, whether the gate refuses each,
        and whether each is refused or unsure (no label)."""
        batch = np.stack(images)
        model, inputs, gate, normalised = active.pipeline, batch, self.gate, False
        model_start = time.perf_counter()
        if gate is not None and _same_start(model, gate.pipeline):  # the MNIST normaliser, once for both
            inputs, model, normalised = model[0].transform(batch), model[1:], True
        proba = np.asarray(model.predict_proba(inputs))
        self.latencies.append(time.perf_counter() - model_start)
        gate_refused = np.zeros(len(batch), bool)
        if gate is not None:
            gate_refused = gate.refuses(inputs, photo=photo, normalised=normalised)
        return proba, gate_refused, refused(proba, gate_refused, self.threshold)

    def _digits(self, boxes, images, lines, *, photo: bool, active: ActiveModel) -> list[Digit]:
        """The model's and the gate's answer for each image, as Digits."""
        if not images:
            return []
        proba, gate_refused, unsure = self._judge(images, photo=photo, active=active)
        classes = active.pipeline.classes_
        digits = []
        for box, image, p, no, no_label, line in zip(boxes, images, proba, gate_refused, unsure, lines, strict=True):
            best = int(np.argmax(p))
            label = None if no_label else int(classes[best])
            digits.append(Digit(tuple(box), label, float(p[best]), p, image, refused=bool(no), line=line))
        return digits

    def _read(self, boxes, images, start, *, photo: bool = False, active: ActiveModel | None = None,
              lines=None) -> Reading:
        active = active or self.active
        lines = lines if lines is not None else [0] * len(boxes)
        digits = self._digits(boxes, images, lines, photo=photo, active=active)
        return Reading(digits, active.name, active.sha256, time.perf_counter() - start)

    def _cut_touching(self, found: list, reading: Reading) -> list[Digit]:
        """The reading's digits with each blob that holds digits written touching replaced by
        its pieces: a blob the model is unsure of, wide for its line, is cut where
        :func:`workbench.live.touching.cut_columns` proposes, and the cut whose pieces the model
        reads surest is kept when it is sure of every piece, the gate takes each for a digit
        and they are not all 1s (the rules and their measurements: :mod:`workbench.live.touching`)."""
        heights: dict[int, list[int]] = {}
        for c, d in zip(found, reading.digits, strict=True):
            if d.label is not None:
                heights.setdefault(c.line, []).append(c.box[3])
        tries = []  # (index in found, [pieces of one cut, ...])
        for i, (c, d) in enumerate(zip(found, reading.digits, strict=True)):
            if c.strokes is None:
                continue
            height = float(np.median(heights.get(c.line, [c.box[3]])))
            if (d.label is not None or d.confidence >= touching.WHOLE_UNSURE
                    or c.box[2] < touching.MIN_WIDTH * max(height, c.box[3])):
                continue
            cuts = [touching.pieces(c.box, c.strokes, c.scale, x) for x in touching.cut_columns(c.strokes)]
            if cuts := [cut for cut in cuts if cut is not None]:
                tries.append((i, cuts))
        if not tries:
            return reading.digits
        # every piece of every cut read in one batch, as Digits on the blob's line
        pieces = self._digits([box for _, cuts in tries for cut in cuts for box, _ in cut],
                              [image for _, cuts in tries for cut in cuts for _, image in cut],
                              [found[i].line for i, cuts in tries for cut in cuts for _ in cut],
                              photo=True, active=self.active)
        replaced, k = {}, 0
        for i, cuts in tries:
            best, best_score = None, touching.SURE
            for cut in cuts:
                read = pieces[k : k + len(cut)]
                score = min(0.0 if d.refused or d.label is None else d.confidence for d in read)
                # two strokes read as 1s are a V, U, W, X or Y cut at its vertex, not two digits
                if score >= best_score and not all(d.label == 1 for d in read):
                    best, best_score = read, score
                k += len(cut)
            if best is not None:
                replaced[i] = best
        return [piece for i, d in enumerate(reading.digits) for piece in replaced.get(i, [d])]

    def read_frame(self, frame) -> Reading:
        """Read every digit of a photo or camera frame (see :func:`find_digits`); digits written
        touching are read apart (:meth:`_cut_touching`)."""
        start = time.perf_counter()
        found = find_digits(frame)
        reading = self._read([c.box for c in found], [c.image for c in found], start, photo=True,
                             lines=[c.line for c in found])
        digits = self._cut_touching(found, reading)
        if digits is reading.digits:
            return reading
        return Reading(digits, reading.model, reading.model_sha256, time.perf_counter() - start)

    def read_canvas(self, canvas, active: ActiveModel | None = None) -> Reading:
        """Read a drawing of one digit; an empty canvas gives a reading with no digits.
        ``active``: read it with this loaded model instead of the active one (the gate and the
        threshold decide as for the active one: how the app compares models)."""
        start = time.perf_counter()
        image = read_canvas(canvas)
        if image is None:
            return self._read([], [], start)
        h, w = np.asarray(canvas).shape[:2]
        return self._read([(0, 0, w, h)], [image], start, active=active)

    def close(self) -> None:
        self._loader.shutdown(wait=True)

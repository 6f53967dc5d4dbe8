"""Models in and out of the workbench.

In: ``workbench import FILE``. A fitted scikit-learn pipeline saved with skops goes through the
model store's exact type checks, like any model file. A Keras 3 ``.keras`` classifier of 28x28
digits is loaded with Keras' safe mode (no Python code from the file runs: a ``Lambda`` layer
is refused) and wrapped as :class:`KerasDigitClassifier` behind ``MnistNormalize``, so that it
serves ``predict``, ``evaluate`` and the app like a shipped model.

Out: ``workbench export NAME``. A CNN model's network as a portable ``.keras`` file (standard
Keras layers only, a softmax at the end: it loads with Keras alone, no workbench) or as ONNX
(through Keras' own exporter, which needs ``jax2onnx``: ``pip install 'digit-workbench[onnx]'``).
Either takes MNIST-convention images: ``(n, 28, 28, 1)`` float32 in [0, 1], white on black,
centred (``MnistNormalize`` gives that from any digit image; MNIST itself / 255 already is).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from workbench.files import ArchiveLimits, ArchiveProblem, FileProblem, check_archive, read_regular
from workbench.store import ModelFileError
from workbench.transforms import MnistNormalize, check_images

DIGITS = np.arange(10)

# What a .keras file may inflate to, checked before Keras reads it: a digit classifier's weights
# are megabytes (the workbench's own `cnn` exported: 2 MB of weights, a 3 KB config), so these
# leave a network a hundred times larger room while a file that inflates to gigabytes is refused.
KERAS_LIMITS = ArchiveLimits(".keras file", members=64, member_bytes=256 << 20, total_bytes=512 << 20,
                             named=(("config.json", 16 << 20), ("metadata.json", 1 << 20)))
KERAS_FILE_BYTES = 512 << 20  # the .keras file itself, read whole


def _load_keras(data: bytes, where: str):
    try:  # before Keras is even imported
        check_archive(data, KERAS_LIMITS)
    except ArchiveProblem as exc:
        raise ModelFileError(f"{where} {exc}; refused before loading") from exc
    from workbench.backend import keras

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(data)
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # a zip, a config or a layer Keras will not build
            raise ValueError(f"{where} is not a Keras model the workbench can load safely: "
                             f"{type(exc).__name__}: {exc}") from exc


class KerasDigitClassifier(ClassifierMixin, BaseEstimator):
    """A fitted Keras 3 classifier of 28x28 digits as a scikit-learn classifier.

    Build it with :meth:`from_file`. The network must take one image of 28x28 (shaped
    ``(28, 28)``, ``(28, 28, 1)`` or ``(784,)``) with values in [0, 1], white ink on black, and
    give 10 outputs, one per digit 0-9 (probabilities, or logits: a softmax is applied when the
    outputs are not probabilities). It is not trained here: ``fit`` refuses.

    Attributes
    ----------
    classes_ : ndarray, the digits 0-9
    keras_file_ : ndarray of uint8
        The ``.keras`` file's bytes: what pickling keeps; the network is rebuilt from them with
        Keras' safe mode, when it is first used (loading a saved model imports no Keras).
    """

    @classmethod
    def from_file(cls, path: str | Path) -> KerasDigitClassifier:
        """Load a ``.keras`` file safely and check that it reads 28x28 digits into 10 classes."""
        path = Path(path)
        try:
            data = read_regular(path, max_bytes=KERAS_FILE_BYTES)
        except FileProblem as exc:
            raise ModelFileError(f"{path}: {exc}") from exc
        clf = cls()
        clf._restore(np.frombuffer(data, np.uint8), str(path))
        return clf

    def _restore(self, data: np.ndarray, where: str) -> None:
        model = _load_keras(data.tobytes(), where)
        shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
        if shape not in ((28, 28), (28, 28, 1), (784,)):
            raise ValueError(f"{where}: the network takes input of shape {model.input_shape}; the workbench gives "
                             "it 28x28 digits: (None, 28, 28), (None, 28, 28, 1) or (None, 784)")
        if tuple(model.output_shape) != (None, 10):
            raise ValueError(f"{where}: the network gives output of shape {model.output_shape}; the workbench "
                             "needs 10 classes, the digits 0-9: (None, 10)")
        self.keras_file_, self.classes_, self.model_, self._shape = data, DIGITS, model, shape

    def fit(self, X, y):
        raise NotImplementedError("an imported Keras model is used as it was trained; train it in Keras, then "
                                  "import it again")

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of the digits 0-9, shape ``(n, 10)``."""
        check_is_fitted(self, "keras_file_")
        if "model_" not in self.__dict__:  # loaded from a model file: rebuilt on first use
            self._restore(self.keras_file_, "the saved Keras model")
        images = check_images(X).reshape((-1, *self._shape))
        out = np.concatenate([np.asarray(self.model_(images[k : k + 512], training=False), np.float64)
                              for k in range(0, len(images), 512)]) if len(images) else np.zeros((0, 10))
        if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3)):  # logits
            out = np.exp(out - out.max(axis=1, keepdims=True))
            out /= out.sum(axis=1, keepdims=True)
        return out.astype(np.float32)

    def predict(self, X) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("model_", "_shape")}

    def __setstate__(self, state):
        self.__dict__.update(state)  # the network is rebuilt from keras_file_ when first used


def import_model(path: str | Path) -> Pipeline:
    """A fitted pipeline of digits from a ``.skops`` pipeline or a ``.keras`` classifier.

    Raises ``ValueError`` naming the problem for anything else, a model that does not give
    the probabilities of the digits 0-9, or (``ModelFileError``) a skops file with types the
    workbench does not trust.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    if path.suffix == ".keras":
        return Pipeline([("normalize", MnistNormalize()), ("clf", KerasDigitClassifier.from_file(path))])
    if path.suffix != ".skops":
        raise ValueError(f"{path}: import takes a scikit-learn pipeline saved with skops (.skops) or a Keras 3 "
                         "classifier (.keras)")
    from workbench.store import load_model_file

    model = load_model_file(path)
    classes = getattr(model, "classes_", None)
    if not hasattr(model, "predict_proba") or classes is None or list(np.asarray(classes)) != list(range(10)):
        raise ValueError(f"{path}: the model must be a fitted classifier with predict_proba over the digits 0-9 "
                         f"(classes_ {None if classes is None else list(classes)})")
    return model


def portable_network(pipeline, *, standard_layers: bool = True):
    """The CNN of a fitted pipeline as a Keras model, softmax included: with Keras' own layers
    only (``standard_layers``: it loads without the workbench), or as trained (its reshape +
    max pooling, which ONNX converters translate more reliably than ``MaxPooling2D``)."""
    from workbench.backend import keras
    from workbench.cnn import CNNClassifier
    from workbench.cnn_layers import MaxPool2x2

    network = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    if not isinstance(network, CNNClassifier):
        raise ValueError(f"only a CNN model exports to Keras or ONNX; this one ends in {type(network).__name__}")

    def standard(layer):
        if isinstance(layer, MaxPool2x2) and standard_layers:
            return keras.layers.MaxPooling2D(name=layer.name)  # the same on even sizes
        return layer.__class__.from_config(layer.get_config())

    clone = keras.models.clone_model(network.model_, clone_function=standard)
    clone.set_weights(network.model_.get_weights())
    outputs = keras.layers.Softmax(name="probabilities")(clone.output)
    portable = keras.Model(clone.input, outputs, name="workbench_cnn_portable")
    portable(np.zeros((1, 28, 28, 1), np.float32))  # called once: Keras' exporters want a called model
    return portable


def export_model(pipeline, path: str | Path, fmt: str) -> Path:
    """Write a CNN model's network to ``path`` as ``fmt`` ("keras" or "onnx"); the file appears
    complete or not at all (written under a temporary name, then renamed)."""
    path = Path(path).expanduser()
    if path.is_dir():  # the same checks as the prediction log's export (live/log.py)
        raise ValueError(f"cannot export to {path}: it is a folder; give a file name ending in .{fmt}")
    if not path.parent.is_dir():
        raise ValueError(f"cannot export to {path}: there is no folder {path.parent}")
    model = portable_network(pipeline, standard_layers=fmt != "onnx")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    if fmt == "keras":
        model.save(tmp)
    elif fmt == "onnx":
        try:
            import jax2onnx  # noqa: F401  (Keras' ONNX exporter for the JAX backend)
            import onnx
        except ImportError as exc:
            raise ValueError("ONNX export needs jax2onnx: pip install 'digit-workbench[onnx]'") from exc
        # Keras' exporter writes the weights to a second, external-data file beside the graph;
        # the network is far under ONNX's 2 GB limit, so it is read back and written as one
        # self-contained file (the exporter's files stay in a private folder, removed after).
        with tempfile.TemporaryDirectory() as folder:
            exported = Path(folder) / "model.onnx"
            model.export(str(exported), format="onnx", verbose=False)
            onnx.save_model(onnx.load(str(exported)), str(tmp), save_as_external_data=False)
    else:
        raise ValueError(f"unknown format {fmt!r}; choose keras or onnx")
    os.replace(tmp, path)
    return path

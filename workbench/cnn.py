"""A Keras 3 convolutional network (JAX backend) as a scikit-learn classifier.

``build_cnn`` is a pure function that returns an uncompiled :class:`keras.Model`;
``CNNClassifier`` owns training and prediction and follows the estimator contract: parameters
stored as given in ``__init__``, validation in ``fit``, learned state in attributes ending
with ``_``. Keras is imported lazily so that importing the workbench stays fast.

Prediction never goes through ``Model.predict``: a jit-compiled stateless forward pass runs on
batches padded to a few fixed sizes, so one image costs a fraction of a millisecond once the
model is compiled (which happens right after ``fit`` and after unpickling).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from workbench.transforms import check_images

# Batches are padded to one of these sizes so that the forward pass compiles a handful of
# times, not once per batch size.
_BATCH_BUCKETS = (1, 8, 64, 512)


def build_cnn(
    n_classes: int = 10,
    *,
    filters1: int = 32,
    filters2: int = 64,
    dense_units: int = 128,
    dropout: float = 0.5,
):
    """Build the workbench CNN, uncompiled.

    Parameters
    ----------
    n_classes : int, default=10
    filters1, filters2 : int
        Channels of the two 3x3 convolution blocks.
    dense_units : int
        Width of the hidden dense layer (0 for none).
    dropout : float
        Dropout rate before the classifier.

    Returns
    -------
    keras.Model
        Input ``(28, 28, 1)`` float in [0, 1]; output class probabilities (softmax).

    Examples
    --------
    >>> build_cnn(10).output_shape
    (None, 10)
    """
    from workbench.backend import keras

    layers = keras.layers
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(filters1, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(filters2, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="workbench_cnn")


def _epoch_timer(times: list):
    """A Keras callback that appends each epoch's wall time (seconds) to ``times``."""
    from workbench.backend import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self._start)

    return EpochTimer()


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """Convolutional network classifier for 28x28 digit images.

    Parameters
    ----------
    filters1, filters2 : int, default=32, 64
        Channels of the two convolution blocks.
    dense_units : int, default=128
        Hidden dense layer width (0 for none).
    dropout : float, default=0.5
    epochs : int, default=10
    batch_size : int, default=128
    learning_rate : float, default=1e-3
        Adam's learning rate.
    validation_fraction : float, default=0.0
        Fraction of the training data held out to report validation loss and accuracy
        per epoch in ``history_``.
    warm_start : bool, default=False
        When True, ``fit`` continues training the existing network (same classes required)
        instead of starting from new weights.
    random_state : int or None, default=None
        Seed for weight initialisation, shuffling and dropout. The same seed on the same
        machine gives the same predictions.
    verbose : int, default=0
        0 prints nothing; 1 shows Keras' progress bar per epoch; 2 one line per epoch.

    Attributes
    ----------
    classes_ : ndarray
        The class labels (any sortable labels).
    model_ : keras.Model
    history_ : dict of str to list
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` (when validating)
        and ``epoch_time`` in seconds.

    Examples
    --------
    >>> from workbench import load_mnist
    >>> X, y = load_mnist("train", subset=500)
    >>> clf = CNNClassifier(epochs=1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    """

    def __init__(
        self,
        *,
        filters1: int = 32,
        filters2: int = 64,
        dense_units: int = 128,
        dropout: float = 0.5,
        epochs: int = 10,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        validation_fraction: float = 0.0,
        warm_start: bool = False,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.filters1 = filters1
        self.filters2 = filters2
        self.dense_units = dense_units
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- training ---------------------------------------------------------------------------

    def fit(self, X, y):
        """Train the network on images ``X`` with labels ``y``; returns ``self``."""
        images, y = self._check_xy(X, y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"CNNClassifier needs at least 2 classes in y, got {len(classes)}")
        if not (self.warm_start and hasattr(self, "model_")):
            self._init_model(classes)
        elif not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start: y has classes {classes.tolist()} but the network was trained on "
                f"{self.classes_.tolist()}; fit with warm_start=False to start over"
            )
        self._train(images, y, self.epochs)
        return self

    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on ``X, y``, creating the network on the first call.

        ``classes`` (all labels that will ever appear) is required on the first call, as in
        sklearn's incremental estimators, and ignored afterwards.
        """
        images, y = self._check_xy(X, y)
        if not hasattr(self, "model_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._init_model(np.unique(classes))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}")
        self._train(images, y, 1)
        return self

    def _check_xy(self, X, y):
        images = check_images(X)[..., None]
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(images):
            raise ValueError(f"y must be 1-D with one label per image; got shape {y.shape} for {len(images)} images")
        check_classification_targets(y)
        return images, y

    def _init_model(self, classes):
        from workbench.backend import keras

        seed = self.random_state if self.random_state is not None else np.random.default_rng().integers(2**31 - 1)
        keras.utils.set_random_seed(int(seed))
        self.classes_ = classes
        self.history_ = {}
        self._build_model()

    def _build_model(self):
        from workbench.backend import keras

        self.model_ = build_cnn(
            len(self.classes_), filters1=self.filters1, filters2=self.filters2,
            dense_units=self.dense_units, dropout=self.dropout,
        )
        self.model_.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )

    def _train(self, images, y, epochs):
        y_idx = np.searchsorted(self.classes_, y).astype(np.int32)
        validation_data = None
        if self.validation_fraction:
            from sklearn.model_selection import train_test_split

            images, val_x, y_idx, val_y = train_test_split(
                images, y_idx, test_size=self.validation_fraction,
                random_state=self.random_state, stratify=y_idx,
            )
            validation_data = (val_x, val_y)
        times: list[float] = []
        hist = self.model_.fit(
            images, y_idx, epochs=epochs, batch_size=self.batch_size,
            validation_data=validation_data, verbose=self.verbose,
            callbacks=[_epoch_timer(times)],
        )
        for key, values in {**hist.history, "epoch_time": times}.items():
            self.history_.setdefault(key, []).extend(float(v) for v in values)
        self._compile_forward()

    # -- prediction -------------------------------------------------------------------------

    def _compile_forward(self):
        from workbench.backend import jax

        model = self.model_

        @jax.jit
        def forward(trainable, non_trainable, x):
            probs, _ = model.stateless_call(trainable, non_trainable, x, training=False)
            return probs

        self._forward = forward
        self._weights = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
        )
        self.predict_proba(np.zeros((1, 28, 28), np.uint8))  # compile the single-image path now

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self, "model_")
        images = check_images(X)[..., None]
        out = np.empty((len(images), len(self.classes_)), np.float32)
        step = _BATCH_BUCKETS[-1]
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            size = next(b for b in _BATCH_BUCKETS if b >= len(chunk))
            if size != len(chunk):
                chunk = np.concatenate([chunk, np.zeros((size - len(chunk), 28, 28, 1), np.float32)])
            probs = self._forward(*self._weights, chunk)
            out[start : start + step] = np.asarray(probs)[: min(step, len(images) - start)]
        return out

    def predict(self, X) -> np.ndarray:
        """Most probable class label for each image."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- pickling: weights as arrays, the network rebuilt from our own code -----------------

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("model_", "_forward", "_weights")}
        if "model_" in self.__dict__:
            state["weights_"] = [np.asarray(w) for w in self.model_.get_weights()]
        return state

    def __setstate__(self, state):
        weights = state.pop("weights_", None)
        self.__dict__.update(state)
        if weights is not None:
            self._build_model()
            self.model_.set_weights(weights)
            self._compile_forward()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

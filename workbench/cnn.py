"""A Keras 3 convolutional network (JAX backend) as a scikit-learn classifier.

``CNNClassifier`` follows the estimator contract: parameters stored as given in ``__init__``,
validation in ``fit``, learned state in attributes ending with ``_``. What is not the estimator
lives beside it, imported lazily (they import Keras) so that importing the workbench stays fast:

- :mod:`workbench.cnn_layers`: the network (``build_cnn``) and its layers and augmentation ops;
- :mod:`workbench.cnn_training`: the jit-compiled training step, the epochs, precise batch norm;
- :mod:`workbench.cnn_inference`: the forward pass in plain JAX, compiled per batch size.

A fitted network predicts from its weights alone: a loaded model builds no Keras network and no
optimizer until it is trained again (``fit`` with ``warm_start``, ``partial_fit``) or its
``model_`` is asked for (export).
"""

from __future__ import annotations

import inspect
import sys
import time
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from workbench.transforms import check_images


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """Convolutional network classifier for 28x28 digit images.

    Parameters
    ----------
    filters1, filters2, filters3 : int, default=32, 64, 128
        Channels of the three convolutions (see :func:`workbench.cnn_layers.build_cnn`).
    dense_units : int, default=128
        Width of the hidden dense layer (0 for none).
    dropout : float, default=0.4
        Dropout rate before the classifier.
    epochs : int, default=20
        Passes over the training data per ``fit``.
    batch_size : int, default=128
    learning_rate : float, default=2e-3
        Peak learning rate of Adam.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"``: one epoch of linear warm-up, then cosine decay to zero over the remaining
        epochs of the ``fit``. ``partial_fit`` always uses the constant ``learning_rate``.
    rotation : float, default=12.0
        Augmentation: largest random rotation, in degrees (0 disables).
    shift : float, default=2.0
        Augmentation: largest random shift, in pixels (0 disables).
    scale : float, default=0.1
        Augmentation: largest relative change of size (0 disables).
    elastic : float, default=0.0
        Augmentation: strength of an elastic distortion of every training image (Simard et
        al. 2003: a random displacement field smoothed by a Gaussian of 4 pixels, times this;
        their MNIST value is 34, about 1.6 pixels on average; 0 disables).
    corruption : float, default=0.0
        Augmentation: share of training images also given Gaussian noise, blur, thinner or
        thicker strokes (:func:`workbench.cnn_layers.random_corruption`), for robustness to
        noisy camera crops, soft focus and pens of any width (0 disables).
    printed : float, default=0.0
        Also train on printed digits, this many per training image (0.1: 6,000 for MNIST's
        60,000): rendered in the fonts of the first of
        :func:`workbench.printed.font_halves` (the second half is kept to measure how
        printed digits are read), light to ultra-bold, and brought to the MNIST convention by
        the canvas reader, so that a printed 1 with a foot or a bold 4 whose counter closes
        reads as the digit it is. Needs the labels to be the integers 0-9; only the classes
        present in ``y`` are printed. 0 disables.
    label_smoothing : float, default=0.0
        Train against targets that give this share of the probability to all classes evenly
        (Szegedy et al.'s label smoothing, as ``keras.losses.CategoricalCrossentropy``'s):
        the loss stops pushing the logits of easy images apart (0 disables).
    ema_momentum : float, default=0.0
        Keep an exponential moving average of the weights over the training steps (Keras'
        optimizer EMA) with this momentum, and predict with the average at the end of each
        ``fit`` (e.g. 0.999; 0 disables). Not with ``early_stopping``.
    validation_fraction : float, default=0.0
        Fraction of the training data held out (stratified) to report ``val_loss`` and
        ``val_accuracy`` per epoch in ``history_``; required by ``early_stopping``.
    early_stopping : bool, default=False
        Stop when ``val_loss`` has not improved for ``n_iter_no_change`` epochs and keep the
        weights of the best epoch.
    n_iter_no_change : int, default=3
    warm_start : bool, default=False
        When True, ``fit`` continues from the current weights and optimizer state (same classes
        required) instead of starting from new weights.
    random_state : int or None, default=None
        Seed for weight initialisation, shuffling, augmentation and dropout. The same seed on
        the same machine gives the same predictions.
    verbose : int, default=0
        0 prints nothing; 1 shows the epochs' progress (:class:`workbench.progress.Progress`:
        a bar on a terminal, else one line per epoch with the time left); 2 prints one line
        per epoch (on stderr).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (any sortable labels).
    model_ : keras.Model
        The network. A loaded model builds it from its weights when first asked for (it
        predicts without it).
    history_ : dict of str to list
        Per-epoch ``loss`` and ``accuracy`` (on the augmented training batches), ``val_loss``
        and ``val_accuracy`` (when validating), ``learning_rate`` and ``epoch_time`` (s).
    n_iter_ : int
        Epochs trained in all.
    best_epoch_ : int
        With early stopping, the epoch (1-based, in ``history_``) whose weights were kept.

    Notes
    -----
    Pickling keeps the weights, not the optimizer state: a ``warm_start`` fit after loading
    starts Adam's moment estimates afresh.

    Examples
    --------
    >>> from workbench import load_mnist
    >>> X, y = load_mnist("train", subset=500)
    >>> clf = CNNClassifier(epochs=1, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 10)
    """

    # Checked by scikit-learn's own parameter validation at every fit and partial_fit; a wrong
    # value is a ValueError that names the parameter, its range and what it got.
    _parameter_constraints: dict = {
        **{name: [Interval(Integral, 1, None, closed="left")]
           for name in ("filters1", "filters2", "filters3", "epochs", "batch_size", "n_iter_no_change")},
        "dense_units": [Interval(Integral, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "rotation": [Interval(Real, 0, 180, closed="both")],
        "shift": [Interval(Real, 0, 14, closed="both")],
        "scale": [Interval(Real, 0, 1, closed="left")],
        "elastic": [Interval(Real, 0, None, closed="left")],
        "corruption": [Interval(Real, 0, 1, closed="both")],
        "printed": [Interval(Real, 0, 1, closed="both")],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "ema_momentum": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "warm_start": ["boolean"],
        "random_state": [Interval(Integral, 0, 2**32 - 1, closed="both"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        filters1: int = 32,
        filters2: int = 64,
        filters3: int = 128,
        dense_units: int = 128,
        dropout: float = 0.4,
        epochs: int = 20,
        batch_size: int = 128,
        learning_rate: float = 2e-3,
        lr_schedule: str = "cosine",
        rotation: float = 12.0,
        shift: float = 2.0,
        scale: float = 0.1,
        elastic: float = 0.0,
        corruption: float = 0.0,
        printed: float = 0.0,
        label_smoothing: float = 0.0,
        ema_momentum: float = 0.0,
        validation_fraction: float = 0.0,
        early_stopping: bool = False,
        n_iter_no_change: int = 3,
        warm_start: bool = False,
        random_state: int | None = None,
        verbose: int = 0,
    ):
        self.filters1 = filters1
        self.filters2 = filters2
        self.filters3 = filters3
        self.dense_units = dense_units
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.rotation = rotation
        self.shift = shift
        self.scale = scale
        self.elastic = elastic
        self.corruption = corruption
        self.printed = printed
        self.label_smoothing = label_smoothing
        self.ema_momentum = ema_momentum
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # -- training ---------------------------------------------------------------------------

    def fit(self, X, y):
        """Train the network on images ``X`` with labels ``y``; returns ``self``."""
        self._check_params()
        images, y = self._check_xy(X, y)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(f"CNNClassifier needs at least 2 classes in y, got {len(classes)}")
        if self.printed and not (y.dtype.kind in "iu" and classes.min() >= 0 and classes.max() <= 9):
            raise ValueError(f"printed needs the labels to be the integers 0-9 (the digits printed); "
                             f"y has {classes.tolist()[:10]} ({y.dtype})")
        if not (self.warm_start and self._is_fitted()):
            self._init_model(classes)
        elif not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start: y has classes {classes.tolist()} but the network was trained on "
                f"{self.classes_.tolist()}; fit with warm_start=False to start over"
            )
        self._train(images, y, self.epochs, self.lr_schedule, printed=self.printed)
        return self

    def _with_printed(self, images, y, share):
        """The training images and labels with ``share`` times as many printed digits added, of
        the classes in ``y``."""
        from workbench.printed import font_halves, printed_digits

        n = int(round(share * len(images)))
        rng = np.random.default_rng(self.seed_)
        extra, labels = printed_digits(n, rng, fonts=font_halves()[0], labels=np.unique(y).tolist(),
                                       weights=(0.5, 1.0, 2.0, 3.0))
        return np.concatenate([images, extra[..., None].astype(np.float32) / 255]), np.concatenate([y, labels])

    def partial_fit(self, X, y, classes=None):
        """Train for one epoch on ``X, y`` at the constant ``learning_rate``.

        The network is created on the first call, which needs ``classes`` (all labels that will
        ever appear), as in sklearn's incremental estimators; later calls ignore it.
        """
        self._check_params()
        images, y = self._check_xy(X, y)
        if not self._is_fitted():
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            self._init_model(np.unique(classes))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels {unknown.tolist()} not in classes_ {self.classes_.tolist()}")
        self._train(images, y, 1, "constant")
        return self

    def _check_params(self):
        self._validate_params()  # each parameter against _parameter_constraints
        if self.ema_momentum and self.early_stopping:
            raise ValueError("ema_momentum and early_stopping cannot be combined: the average would replace the "
                             "best epoch's weights; set one of them")
        if self.early_stopping and not self.validation_fraction:
            raise ValueError("early_stopping needs a validation set: set validation_fraction > 0 (e.g. 0.1)")

    def _check_xy(self, X, y):
        images = check_images(X)[..., None]
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(images):
            raise ValueError(f"y must be 1-D with one label per image; got shape {y.shape} for {len(images)} images")
        check_classification_targets(y)
        return images, y

    def _init_model(self, classes):
        self.classes_ = classes
        seed = self.random_state if self.random_state is not None else np.random.SeedSequence().entropy % 2**31
        self.seed_ = int(seed)
        self.history_ = {}
        self.n_iter_ = 0
        self._steps_done = 0
        self._model = self._build_network()  # new weights
        self._optimizer = self._train_step = None
        self._sync_weights()

    def _build_network(self):
        from workbench.cnn_layers import build_cnn

        return build_cnn(len(self.classes_), filters1=self.filters1, filters2=self.filters2, filters3=self.filters3,
                         dense_units=self.dense_units, dropout=self.dropout, seed=self.seed_)

    def _is_fitted(self) -> bool:
        return "_weights" in self.__dict__

    @property
    def model_(self):
        """The Keras network; a loaded model builds it from its weights when first asked for."""
        if "_model" not in self.__dict__:
            if not self._is_fitted():
                raise AttributeError("model_: this CNNClassifier is not fitted yet")
            model = self._build_network()
            model.set_weights([np.asarray(w) for w in self._weights])
            self._model = model
        return self._model

    def _training_optimizer(self):
        """Adam (keeping the average of the weights if ``ema_momentum``), made the first time the
        network is trained after it was made or loaded."""
        if getattr(self, "_optimizer", None) is None:
            from workbench.backend import keras

            self._optimizer = keras.optimizers.Adam(
                self.learning_rate, use_ema=self.ema_momentum > 0, ema_momentum=self.ema_momentum or 0.99
            )
            self._optimizer.build(self.model_.trainable_variables)
            self._train_step = None
        return self._optimizer

    def _train(self, images, y, epochs, schedule, printed=0.0):
        from workbench.cnn_training import make_train_step, recalibrate_batch_norm, run_epochs
        from workbench.progress import Progress

        y_idx = np.searchsorted(self.classes_, y).astype(np.int32)
        val = None
        if self.validation_fraction:
            from sklearn.model_selection import train_test_split

            stratify = y_idx if np.bincount(y_idx).min() >= 2 else None
            images, val_x, y_idx, val_y = train_test_split(
                images, y_idx, test_size=self.validation_fraction, random_state=self.seed_ + self.n_iter_,
                stratify=stratify,
            )
            val = (val_x, val_y)
        if printed:  # after the split: the validation figures stay those of the caller's images
            images, labels = self._with_printed(images, self.classes_[y_idx], printed)
            y_idx = np.searchsorted(self.classes_, labels).astype(np.int32)
        self._training_optimizer()
        if self._train_step is None:
            self._train_step = make_train_step(self.model_, self._optimizer, rotation=self.rotation, shift=self.shift,
                                               scale=self.scale, elastic=self.elastic, corruption=self.corruption,
                                               label_smoothing=self.label_smoothing)
        start_state = (
            [v.value for v in self.model_.trainable_variables],
            [v.value for v in self.model_.non_trainable_variables],
            [v.value for v in self._optimizer.variables],
        )
        best, stall = (np.inf, None, 0), 0  # best: (val_loss, weights, epoch)
        progress = Progress(epochs, "epochs", enabled=self.verbose == 1)
        for state, record in run_epochs(self._train_step, start_state, images, y_idx, epochs=epochs,
                                        batch_size=self.batch_size, learning_rate=self.learning_rate,
                                        schedule=schedule, seed=self.seed_, first_epoch=self.n_iter_,
                                        first_step=self._steps_done):
            self._steps_done += record.pop("steps")
            start = record.pop("start")
            self._set_variables(state)
            if val is not None:
                proba = self.predict_proba(val[0])
                record["val_loss"] = float(-np.mean(np.log(np.maximum(proba[np.arange(len(proba)), val[1]], 1e-12))))
                record["val_accuracy"] = float(np.mean(proba.argmax(1) == val[1]))
            record["epoch_time"] = time.perf_counter() - start
            self.n_iter_ += 1
            for name, value in record.items():
                self.history_.setdefault(name, []).append(value)
            progress.update(", ".join(f"{k} {v:.4f}" for k, v in record.items() if k.endswith(("loss", "accuracy"))))
            if self.verbose >= 2:
                summary = "  ".join(f"{k} {v:.4g}" for k, v in record.items())
                print(f"epoch {self.n_iter_}: {summary}", file=sys.stderr, flush=True)
            if self.early_stopping:
                if record["val_loss"] < best[0]:
                    best, stall = (record["val_loss"], self.model_.get_weights(), self.n_iter_), 0
                else:
                    stall += 1
                    if stall >= self.n_iter_no_change:
                        break
        progress.close()
        if self.early_stopping and best[1] is not None:
            self.model_.set_weights(best[1])
            self.best_epoch_ = best[2]
        self._optimizer.finalize_variable_values(self.model_.trainable_variables)  # the average, if kept
        recalibrate_batch_norm(self.model_, images)
        self._sync_weights()

    def _set_variables(self, state):
        trainable, non_trainable, opt_vars = state
        for variable, value in zip(self.model_.trainable_variables, trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(self.model_.non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)
        for variable, value in zip(self._optimizer.variables, opt_vars, strict=True):
            variable.assign(value)
        self._sync_weights()

    # -- prediction -------------------------------------------------------------------------

    def _sync_weights(self):
        """Copy the network's weights to the inference pass (after training changed them)."""
        from workbench.cnn_inference import device_weights

        self._weights = device_weights(self._model.get_weights())

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape ``(n, n_classes)``, columns in the order of ``classes_``."""
        from workbench.cnn_inference import predict_proba

        check_is_fitted(self, "classes_")
        return predict_proba(self._weights, check_images(X)[..., None], hidden=bool(self.dense_units))

    def predict(self, X) -> np.ndarray:
        """Most probable class label for each image."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- pickling: the weights as arrays; the network is rebuilt from our own code if needed ---

    _UNPICKLED = ("_model", "_weights", "_optimizer", "_train_step")

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if k not in self._UNPICKLED}
        if "_model" in self.__dict__:
            state["weights_"] = [np.asarray(w) for w in self._model.get_weights()]
        elif self._is_fitted():
            state["weights_"] = [np.asarray(w) for w in self._weights]
        return state

    def __setstate__(self, state):
        weights = state.pop("weights_", None)
        # A model saved before a parameter existed gets its default, which is what it was
        # trained with.
        defaults = {name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        self.__dict__.update({**defaults, **state})
        if weights is not None:  # for prediction, nothing else: no network, no optimizer
            from workbench.cnn_inference import device_weights

            self._weights = device_weights(weights)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

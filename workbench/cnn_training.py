"""Training the CNN: the learning-rate schedule, the jit-compiled step, the epochs, and precise
batch norm. :class:`workbench.cnn.CNNClassifier` calls these; they know nothing of sklearn.

The step (augmentation, forward, backward and the Adam update in one XLA program, with the
learning rate fed per step) replaces ``Model.fit``: it is faster on CPU and lets ``fit``,
``partial_fit`` and ``warm_start`` share one optimizer state.

Imported only when a network is trained (it imports keras).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from workbench.backend import jax, keras
from workbench.cnn_layers import random_affine, random_corruption

jnp = jax.numpy


def learning_rate_at(step: int, total_steps: int, peak: float, warmup_steps: int, schedule: str) -> float:
    """The learning rate of training step ``step`` (0-based) of ``total_steps``.

    ``"cosine"``: linear warm-up to ``peak`` over ``warmup_steps``, then a cosine decay to zero
    at the last step. ``"constant"``: ``peak`` throughout.
    """
    if schedule == "constant":
        return peak
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def make_train_step(model, optimizer, *, rotation: float, shift: float, scale: float, corruption: float,
                    label_smoothing: float = 0.0, elastic: float = 0.0):
    """The jit-compiled training step of ``model`` with ``optimizer`` (built on its trainable
    variables): augment (random affine, then corruption), forward, backward and update. The
    loss is the cross-entropy against targets that give ``label_smoothing`` of the probability
    to all classes evenly.

    ``step(state, images, labels, batch, key, learning_rate) -> (state, loss, correct)``, where
    ``state`` is ``(trainable, non_trainable, optimizer variables)`` as arrays, ``images`` and
    ``labels`` the whole training set on the device and ``batch`` the indices of one batch.
    """
    lr_index = next(i for i, v in enumerate(optimizer.variables) if v.path.endswith("learning_rate"))
    augment = rotation or shift or scale or elastic
    rotation, shift, scale, elastic = float(rotation), float(shift), float(scale), float(elastic)
    corruption = float(corruption)
    smoothing = float(label_smoothing)

    def loss_fn(trainable, non_trainable, x, y):
        logits, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        log_probs = jax.nn.log_softmax(logits)
        nll = -jnp.take_along_axis(log_probs, y[:, None], axis=1)[:, 0]
        loss = jnp.mean((1 - smoothing) * nll - smoothing * jnp.mean(log_probs, axis=1))
        correct = jnp.sum(jnp.argmax(logits, axis=1) == y)
        return loss, (non_trainable, correct)

    @jax.jit
    def step(state, images, labels, batch, key, learning_rate):
        trainable, non_trainable, opt_vars = state
        x, y = images[batch], labels[batch]
        if augment:
            x = random_affine(key, x, rotation=rotation, shift=shift, scale=scale, elastic=elastic)
        if corruption:
            x = random_corruption(jax.random.fold_in(key, 1), x, probability=corruption)
        (loss, (non_trainable, correct)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, non_trainable, x, y
        )
        opt_vars = list(opt_vars)
        opt_vars[lr_index] = jnp.asarray(learning_rate, opt_vars[lr_index].dtype)
        trainable, opt_vars = optimizer.stateless_apply(opt_vars, grads, trainable)
        return (trainable, non_trainable, opt_vars), loss, correct

    return step


def run_epochs(step, state, images: np.ndarray, labels: np.ndarray, *, epochs: int, batch_size: int,
               learning_rate: float, schedule: str, seed: int, first_epoch: int = 0,
               first_step: int = 0) -> Iterator[tuple[tuple, dict]]:
    """Train for ``epochs`` epochs, yielding ``(state, record)`` after each.

    Every epoch sees each image once in a shuffled order (seeded by ``seed`` and the epoch's
    number counted from ``first_epoch``); the last batch is filled up with random others so
    that every step has the same shape (one compilation). The record holds the epoch's mean
    ``loss``, ``accuracy`` on the augmented batches, the last ``learning_rate``, the number of
    ``steps`` and its ``start`` time (``time.perf_counter``). Stop early by leaving the loop.
    """
    images_dev, labels_dev = jax.device_put(images), jax.device_put(labels)
    n = len(images)
    batch_size = min(batch_size, n)
    steps = math.ceil(n / batch_size)
    key = jax.random.PRNGKey(seed)
    for epoch in range(epochs):
        start = time.perf_counter()
        rng = np.random.default_rng([seed, first_epoch + epoch])
        order = rng.permutation(n)
        order = np.concatenate([order, rng.choice(n, steps * batch_size - n)]).reshape(steps, batch_size)
        losses, corrects = [], []
        for i, batch in enumerate(order):
            lr = learning_rate_at(epoch * steps + i, epochs * steps, learning_rate, steps, schedule)
            step_key = jax.random.fold_in(key, first_step + epoch * steps + i)
            state, loss, correct = step(state, images_dev, labels_dev, batch, step_key, lr)
            losses.append(loss)
            corrects.append(correct)
        yield state, {"loss": float(np.mean(losses)), "accuracy": float(np.sum(corrects)) / (steps * batch_size),
                      "learning_rate": lr, "steps": steps, "start": start}


def recalibrate_batch_norm(model, images: np.ndarray, batch_size: int = 1000) -> None:
    """Set each batch norm's statistics to the exact mean and variance of its input.

    During training the running statistics follow augmented batches and weights that are
    still changing; at prediction time the network sees clean images. So, layer by layer
    in order, the statistics are recomputed over the (unaugmented) training images as the
    network in inference mode sees them ("precise batch norm"). On the shipped model this
    moved test accuracy from 99.57% to 99.62%.
    """
    batch_size = min(batch_size, len(images))
    for layer in [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]:
        upstream = keras.Model(model.input, layer.input)

        @jax.jit
        def moments(weights, x, mask, upstream=upstream):
            a, _ = upstream.stateless_call(*weights, x, training=False)
            m = mask.reshape((-1,) + (1,) * (a.ndim - 1))
            axes = tuple(range(a.ndim - 1))
            return jnp.sum(a * m, axis=axes), jnp.sum(jnp.square(a) * m, axis=axes), jnp.sum(m) * a[0, ..., 0].size

        weights = (
            [v.value for v in upstream.trainable_variables],
            [v.value for v in upstream.non_trainable_variables],
        )
        sums, squares, count = 0.0, 0.0, 0.0
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            mask = np.zeros(batch_size, np.float32)
            mask[: len(chunk)] = 1
            if len(chunk) < batch_size:
                chunk = np.concatenate([chunk, np.zeros((batch_size - len(chunk), *chunk.shape[1:]), chunk.dtype)])
            s, s2, n = moments(weights, chunk, mask)
            sums = sums + np.asarray(s, np.float64)
            squares = squares + np.asarray(s2, np.float64)
            count += float(n)
        mean = sums / count
        var = np.maximum(squares / count - mean**2, 0)
        layer.moving_mean.assign(mean.astype(np.float32))
        layer.moving_variance.assign(var.astype(np.float32))

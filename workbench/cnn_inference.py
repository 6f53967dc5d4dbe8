"""The CNN's inference pass, compiled ahead of time for a few batch sizes.

Prediction never goes through ``Model.predict`` (which rebuilds its data pipeline on every
call): a forward pass compiled once for each batch size of ``BATCH_BUCKETS`` runs on padded
batches, so one image costs a fraction of a millisecond. The weights are arguments of the
compiled function, so training or loading weights only refreshes them; nothing is compiled
again.

Imported only when a network is built (it imports keras).
"""

from __future__ import annotations

import numpy as np

from workbench.backend import jax

# Batches are padded to one of these sizes; the forward pass is compiled once for each. A
# frame holds a few digits: 4 runs in 0.56 ms where 8 takes 0.89 (0.16 s more to compile).
BATCH_BUCKETS = (1, 4, 8, 64, 512)


def weights_of(model) -> tuple[list, list]:
    """``(trainable, non_trainable)`` copies of a model's variables, as the compiled pass takes
    them. Copies, not the variables' own buffers: Keras' ``Model.predict``/``fit`` donate those
    buffers to XLA, which would leave the caller holding deleted arrays."""
    copy = jax.numpy.array
    return ([copy(v.value, copy=True) for v in model.trainable_variables],
            [copy(v.value, copy=True) for v in model.non_trainable_variables])


def compile_forward(model, weights) -> dict:
    """``{batch size: compiled softmax(model(x))}`` for each of ``BATCH_BUCKETS``."""

    def forward(trainable, non_trainable, x):
        logits, _ = model.stateless_call(trainable, non_trainable, x, training=False)
        return jax.nn.softmax(logits)

    jitted = jax.jit(forward)
    return {size: jitted.lower(*weights, jax.ShapeDtypeStruct((size, 28, 28, 1), np.float32)).compile()
            for size in BATCH_BUCKETS}


def predict_proba(forward: dict, weights, images: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities of ``images`` ``(n, 28, 28, 1)`` float32, in padded batches."""
    out = np.empty((len(images), n_classes), np.float32)
    step = BATCH_BUCKETS[-1]
    for start in range(0, len(images), step):
        chunk = images[start : start + step]
        count = len(chunk)
        size = next(b for b in BATCH_BUCKETS if b >= count)
        if size != count:
            chunk = np.concatenate([chunk, np.zeros((size - count, 28, 28, 1), np.float32)])
        out[start : start + count] = np.asarray(forward[size](*weights, chunk))[:count]
    return out

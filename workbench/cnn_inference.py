"""The CNN's inference pass in plain JAX: no Keras, no network to build.

A fitted :class:`~workbench.cnn.CNNClassifier` predicts with :func:`predict_proba`, which runs
the network of :func:`workbench.cnn_layers.build_cnn` (three convolutions with batch norm and
ReLU, two 2x2 max pools, an optional hidden dense layer, the logits, a softmax) straight from
its weights, in the order of Keras' ``Model.get_weights()``. The operations are those Keras'
JAX backend runs for the same layers (``tests/test_cnn.py`` checks the probabilities against
the Keras network's), so a model loaded for prediction needs neither Keras (seconds to import)
nor a network built with random weights only to overwrite them.

Batches are padded to one of ``BATCH_BUCKETS`` sizes; the pass is compiled for a size the first
time it is used (a fraction of a second, or milliseconds from JAX's persistent cache: see
:func:`workbench.backend.use_compilation_cache`), and every model of the same architecture
shares the compiled program, as the weights are its arguments.
"""

from __future__ import annotations

import threading
from functools import partial

import numpy as np

from workbench.backend import jax

jnp = jax.numpy

# Batches are padded to one of these sizes. A frame holds a few digits: 4 runs in 0.56 ms where
# 8 takes 0.89.
BATCH_BUCKETS = (1, 4, 8, 64, 512)
BN_EPSILON = 1e-3  # keras.layers.BatchNormalization's default, which build_cnn keeps


def _batch_norm(x, gamma, beta, mean, variance):
    """Inference batch norm, as keras.ops.batch_normalization computes it on JAX."""
    inv = jax.lax.rsqrt(variance + BN_EPSILON) * gamma
    return jnp.add(x * inv, beta - mean * inv)


def _conv_bn_relu(x, weights, padding):
    kernel, *bn = weights
    x = jax.lax.conv_general_dilated(x, kernel, (1, 1), padding, rhs_dilation=(1, 1),
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jax.nn.relu(_batch_norm(x, *bn))


def _max_pool_2x2(x):  # cnn_layers.MaxPool2x2
    n, h, w, c = x.shape
    return jnp.max(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))


def forward(weights, x, *, hidden: bool):
    """Class probabilities of ``x`` ``(n, 28, 28, 1)`` float32 from ``build_cnn``'s weights
    (``Model.get_weights()`` order); ``hidden``: the network has its hidden dense layer."""
    x = _max_pool_2x2(_conv_bn_relu(x, weights[0:5], "SAME"))
    x = _max_pool_2x2(_conv_bn_relu(x, weights[5:10], "SAME"))
    x = _conv_bn_relu(x, weights[10:15], "VALID")
    x = x.reshape(x.shape[0], -1)
    rest = weights[15:]
    if hidden:
        x = jax.nn.relu(_batch_norm(jnp.matmul(x, rest[0]), *rest[1:5]))
        rest = rest[5:]
    kernel, bias = rest
    return jax.nn.softmax(jnp.add(jnp.matmul(x, kernel), bias))


_jitted = {hidden: jax.jit(partial(forward, hidden=hidden)) for hidden in (False, True)}
_compiled: dict = {}  # (hidden, batch size, weight shapes) -> compiled forward pass
_compiling = threading.Lock()


def _compiled_for(weights, size: int, hidden: bool):
    key = (hidden, size, tuple(w.shape for w in weights))
    if key not in _compiled:
        with _compiling:  # one compilation per program, whichever thread asks first
            if key not in _compiled:
                spec = jax.ShapeDtypeStruct((size, 28, 28, 1), np.float32)
                _compiled[key] = _jitted[hidden].lower(weights, spec).compile()
    return _compiled[key]


def device_weights(weights) -> list:
    """The weights as JAX arrays, as :func:`predict_proba` takes them."""
    return [jnp.asarray(np.asarray(w, np.float32)) for w in weights]


def predict_proba(weights, images: np.ndarray, *, hidden: bool) -> np.ndarray:
    """Class probabilities of ``images`` ``(n, 28, 28, 1)`` float32, in padded batches."""
    n_classes = weights[-1].shape[0]
    out = np.empty((len(images), n_classes), np.float32)
    step = BATCH_BUCKETS[-1]
    for start in range(0, len(images), step):
        chunk = images[start : start + step]
        count = len(chunk)
        size = next(b for b in BATCH_BUCKETS if b >= count)
        if size != count:
            chunk = np.concatenate([chunk, np.zeros((size - count, 28, 28, 1), np.float32)])
        out[start : start + count] = np.asarray(_compiled_for(weights, size, hidden)(weights, chunk))[:count]
    return out

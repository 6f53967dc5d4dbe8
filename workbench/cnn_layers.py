"""The workbench CNN's network (:func:`build_cnn`) and the layers and ops it needs that Keras
does not ship in the form XLA:CPU runs fast (pooling, augmentation, corruption).

Imported only when a network is built (it imports keras).
"""

from __future__ import annotations

import numpy as np

from workbench.backend import jax, keras

jnp = jax.numpy


@keras.saving.register_keras_serializable(package="workbench")
class MaxPool2x2(keras.layers.Layer):
    """2x2 max pooling with stride 2, written as reshape + max.

    Same result as ``keras.layers.MaxPooling2D()`` on even sizes, but its backward pass is an
    elementwise mask instead of XLA's ``select_and_scatter``, which is slow on CPU (see
    benchmarks/train_step.py).
    """

    def call(self, x):
        _, h, w, c = x.shape
        x = keras.ops.reshape(x, (-1, h // 2, 2, w // 2, 2, c))
        return keras.ops.max(x, axis=(2, 4))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, h // 2, w // 2, c)


def _smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """``G`` such that ``G @ a @ G.T`` is ``a`` (n x n) smoothed by a Gaussian of ``sigma``
    pixels, zero outside (as ``scipy.ndimage.gaussian_filter(a, sigma, mode="constant")``)."""
    d = np.arange(n)[:, None] - np.arange(n)[None, :]
    return np.exp(-0.5 * (d / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def random_affine(key, images, *, rotation: float, shift: float, scale: float, elastic: float = 0.0,
                  elastic_sigma: float = 4.0):
    """Apply a random rotation, scaling and shift to each image of a batch (bilinear, zero fill),
    and optionally an elastic distortion.

    A pure JAX function, jit-compiled inside the training step: the augmentation runs with the
    network on the same device and costs a few percent of a training step.

    Parameters
    ----------
    key : jax PRNG key
    images : array, shape (n, 28, 28, 1)
    rotation : float
        Largest rotation in degrees (uniform in [-rotation, rotation]).
    shift : float
        Largest shift in pixels along each axis.
    scale : float
        Largest relative change of size (uniform in [1 - scale, 1 + scale]).
    elastic : float
        Strength of an elastic distortion (Simard et al., ICDAR 2003): each pixel's source also
        moves by a random field, uniform in [-1, 1] per pixel, smoothed by a Gaussian of
        ``elastic_sigma`` pixels and multiplied by ``elastic`` (their MNIST values: 34 and 4,
        about 1.6 pixels of displacement on average). 0 disables.
    elastic_sigma : float
        Smoothness of the field, in pixels.

    Returns
    -------
    array, shape (n, 28, 28, 1)
    """
    n, h, w, _ = images.shape
    k_rot, k_scale, k_shift = jax.random.split(key, 3)
    angle = jnp.deg2rad(jax.random.uniform(k_rot, (n, 1, 1), minval=-rotation, maxval=rotation))
    zoom = jax.random.uniform(k_scale, (n, 1, 1), minval=1 - scale, maxval=1 + scale)
    offset = jax.random.uniform(k_shift, (2, n, 1, 1), minval=-shift, maxval=shift)
    # For each output pixel, where it comes from: inverse rotation and zoom about the centre.
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = jnp.meshgrid(jnp.arange(h) - cy, jnp.arange(w) - cx, indexing="ij")
    cos, sin = jnp.cos(angle) / zoom, jnp.sin(angle) / zoom
    src_x = cos * xx + sin * yy + cx - offset[0]
    src_y = -sin * xx + cos * yy + cy - offset[1]
    if elastic:
        g = jnp.asarray(_smoothing_matrix(h, elastic_sigma), images.dtype)
        field = jax.random.uniform(jax.random.fold_in(key, 7), (2, n, h, w), minval=-1.0, maxval=1.0)
        field = elastic * jnp.einsum("ij,cnjk,lk->cnil", g, field, g)
        src_x, src_y = src_x + field[0], src_y + field[1]
    # Bilinear interpolation from the image padded with one ring of zeros, so that every source
    # outside the image reads zeros (background).
    src_x = jnp.clip(src_x, -1.0, w) + 1
    src_y = jnp.clip(src_y, -1.0, h) + 1
    x0 = jnp.minimum(jnp.floor(src_x), w)
    y0 = jnp.minimum(jnp.floor(src_y), h)
    wx, wy = src_x - x0, src_y - y0
    x0, y0 = x0.astype(jnp.int32), y0.astype(jnp.int32)
    flat = jnp.pad(images[..., 0], ((0, 0), (1, 1), (1, 1))).reshape(n, -1)

    def at(y, x):
        return jnp.take_along_axis(flat, (y * (w + 2) + x).reshape(n, -1), axis=1).reshape(n, h, w)

    out = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x0 + 1)) + wy * (
        (1 - wx) * at(y0 + 1, x0) + wx * at(y0 + 1, x0 + 1)
    )
    return out[..., None]


# Noise above this sigma makes MnistNormalize median-filter the image (its margin test).
DENOISED_SIGMA = 0.25


def median3x3(images):
    """3x3 median filter of ``(n, h, w)`` images, edges replicated (as ``cv2.medianBlur``)."""
    h, w = images.shape[1:]
    p = jnp.pad(images, ((0, 0), (1, 1), (1, 1)), mode="edge")
    v = [p[:, i : i + h, j : j + w] for i in range(3) for j in range(3)]
    # Paeth's 19-exchange network for the median of nine (elementwise min/max: no sort).
    for a, b in ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8),
                 (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2)):
        v[a], v[b] = jnp.minimum(v[a], v[b]), jnp.maximum(v[a], v[b])
    return v[4]


def random_corruption(key, images, *, probability: float, noise: float = 0.6, blur: float = 2.5):
    """Corrupt a random share of a batch the ways a camera and a pen do: each image is, with
    ``probability``, given one of Gaussian noise (sigma up to ``noise``, 30% of them; median-filtered
    above :data:`DENOISED_SIGMA`, as the normaliser does), Gaussian
    blur (sigma 0.5 to ``blur`` pixels, 25%), thinner strokes (3x3 erosion, 25%) or thicker
    strokes (3x3 dilation, once or twice, 20%); the rest stay as they are. Pure JAX, jit-compiled in the
    training step (the kinds and ranges of :mod:`workbench.corruptions`).

    Parameters
    ----------
    key : jax PRNG key
    images : array, shape (n, 28, 28, 1), values in [0, 1]
    probability : float
        Share of the images that are corrupted.

    Returns
    -------
    array, shape (n, 28, 28, 1), values in [0, 1]
    """
    n = images.shape[0]
    k_which, k_kind, k_noise, k_sigma, k_blur = jax.random.split(key, 5)
    x = images[..., 0]
    sigma_noise = jax.random.uniform(k_noise, (n, 1, 1), maxval=noise)
    noisy = jnp.clip(x + sigma_noise * jax.random.normal(k_sigma, x.shape), 0, 1)
    # As the model meets them: MnistNormalize median-filters an image this noisy (_denoised).
    noisy = jnp.where(sigma_noise > DENOISED_SIGMA, median3x3(noisy), noisy)
    # Blur: one Gaussian kernel per image (sigma 0.5 to blur), applied along rows then columns.
    sigma_blur = jax.random.uniform(k_blur, (n, 1), minval=0.5, maxval=blur)
    taps = jnp.arange(-5, 6, dtype=x.dtype)
    kernel = jnp.exp(-0.5 * (taps[None, :] / sigma_blur) ** 2)
    kernel = kernel / kernel.sum(axis=1, keepdims=True)  # (n, 11)
    padded = jnp.pad(x, ((0, 0), (5, 5), (5, 5)))
    rows = sum(kernel[:, t, None, None] * padded[:, t : t + 28, :] for t in range(11))
    blurred = sum(kernel[:, t, None, None] * rows[:, :, t : t + 28] for t in range(11))

    def cross(op, image):  # over the 3x3 cross around each pixel, zero outside the image
        p = jnp.pad(image, ((0, 0), (1, 1), (1, 1)))
        centre, up, down, left, right = (p[:, 1:-1, 1:-1], p[:, :-2, 1:-1], p[:, 2:, 1:-1], p[:, 1:-1, :-2],
                                         p[:, 1:-1, 2:])
        return op(op(op(centre, up), op(down, left)), right)

    eroded = cross(jnp.minimum, x)
    dilated = cross(jnp.maximum, x)
    dilated = jnp.where(jax.random.bernoulli(k_kind, 0.5, (n, 1, 1)), cross(jnp.maximum, dilated), dilated)
    kind = jax.random.choice(jax.random.fold_in(k_kind, 1), 4, (n, 1, 1), p=jnp.array([0.3, 0.25, 0.25, 0.2]))
    corrupted = jnp.select([kind == 0, kind == 1, kind == 2], [noisy, blurred, eroded], dilated)
    which = jax.random.bernoulli(k_which, probability, (n, 1, 1))
    return jnp.where(which, corrupted, x)[..., None]


def build_cnn(
    n_classes: int = 10,
    *,
    filters1: int = 32,
    filters2: int = 64,
    filters3: int = 128,
    dense_units: int = 128,
    dropout: float = 0.4,
    seed: int | None = None,
):
    """Build the workbench CNN, uncompiled.

    Three 3x3 convolutions, each followed by batch norm and ReLU: ``filters1`` channels at
    28x28 and ``filters2`` at 14x14, each followed by 2x2 max pooling, then ``filters3`` at 7x7
    without padding (5x5 out); flattened, a hidden dense layer (batch norm, ReLU), dropout and
    a dense layer to the classes. The layout keeps the costly full-resolution work small, which
    matters on CPU.

    Parameters
    ----------
    n_classes : int, default=10
    filters1, filters2, filters3 : int, default=32, 64, 128
        Channels of the three convolutions.
    dense_units : int, default=128
        Width of the hidden dense layer (0 for none).
    dropout : float, default=0.4
        Dropout rate before the classifier.
    seed : int or None
        Seed of the weight initialisers and of dropout (None: Keras' global seed).

    Returns
    -------
    keras.Model
        Input ``(28, 28, 1)`` float in [0, 1]; output ``(n_classes,)`` logits (apply a softmax
        for probabilities, as ``CNNClassifier.predict_proba`` does).

    Examples
    --------
    >>> build_cnn(10).output_shape
    (None, 10)
    """
    layers = keras.layers
    seeds = iter(range(seed, seed + 100)) if seed is not None else iter(lambda: None, 0)

    def conv_bn_relu(x, filters, padding="same"):
        init = keras.initializers.HeNormal(seed=next(seeds))
        x = layers.Conv2D(filters, 3, padding=padding, use_bias=False, kernel_initializer=init)(x)
        # momentum 0.9 (Keras' default is 0.99): the running statistics settle within a few
        # dozen steps, so that short fits on small subsets predict sensibly too.
        return layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))

    inputs = keras.Input((28, 28, 1))
    x = MaxPool2x2()(conv_bn_relu(inputs, filters1))
    x = MaxPool2x2()(conv_bn_relu(x, filters2))
    x = conv_bn_relu(x, filters3, padding="valid")
    x = layers.Flatten()(x)
    if dense_units:
        init = keras.initializers.HeNormal(seed=next(seeds))
        x = layers.Dense(dense_units, use_bias=False, kernel_initializer=init)(x)
        x = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))
    x = layers.Dropout(dropout, seed=next(seeds))(x)
    init = keras.initializers.GlorotUniform(seed=next(seeds))
    outputs = layers.Dense(n_classes, kernel_initializer=init, name="logits")(x)
    return keras.Model(inputs, outputs, name="workbench_cnn")

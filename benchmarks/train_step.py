"""Training-step throughput of the default CNN: the Keras path next to plain JAX and PyTorch.

    .venv/bin/python benchmarks/train_step.py [--steps 100] [--rounds 3] [--batch-size 128]

Times the step that ``CNNClassifier.fit`` runs (forward, backward and Adam update on one batch
of 128, compiled by XLA) for the same network written three ways:

- ``keras``: the workbench's own step (``workbench.cnn_training.make_train_step``: Keras layers called
  through ``stateless_call`` inside ``jax.jit``);
- ``keras, MaxPooling2D``: the same with Keras' pooling layer (XLA ``reduce_window``) instead
  of the workbench's reshape + max;
- ``jax``: the same architecture in plain JAX (``lax.conv_general_dilated``, batch norm,
  reshape + max pooling, dropout, hand-written Adam);
- ``torch``: the same architecture in PyTorch (eager, CPU), when torch is installed
  (``pip install torch==2.13.0``; not a dependency of the workbench).

Each is timed with and without the on-the-fly augmentation (random rotation, scale and shift;
``random_affine`` for the first three, ``affine_grid`` + ``grid_sample`` for torch). The figure
is the median over ``--rounds`` rounds of ``--steps`` steps after warm-up, rounds interleaved
so that load from other processes hits every contender alike.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from workbench.backend import jax, keras
from workbench.cnn import CNNClassifier
from workbench.cnn_layers import random_affine

jnp = jax.numpy
AUG = dict(rotation=12.0, shift=2.0, scale=0.1)  # CNNClassifier's defaults
F1, F2, F3 = 32, 64, 128


def keras_step(batch_size: int, augment: bool, keras_pool: bool = False):
    params = AUG if augment else dict(rotation=0.0, shift=0.0, scale=0.0)
    clf = CNNClassifier(random_state=0, **params)
    clf._init_model(np.arange(10))
    if keras_pool:  # swap the workbench's MaxPool2x2 for keras.layers.MaxPooling2D
        from workbench import cnn_layers

        original = cnn_layers.MaxPool2x2
        cnn_layers.MaxPool2x2 = lambda: keras.layers.MaxPooling2D()
        try:
            clf._init_model(np.arange(10))
        finally:
            cnn_layers.MaxPool2x2 = original
    from workbench.cnn_training import make_train_step

    model, optimizer = clf.model_, clf._training_optimizer()
    step = make_train_step(model, optimizer, corruption=0.0,
                           **{k: getattr(clf, k) for k in ("rotation", "shift", "scale")})
    state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    images, labels = _data(batch_size * 4)
    batch = np.arange(batch_size)

    def run(state, i):
        state, loss, _ = step(state, images, labels, batch, jax.random.PRNGKey(i), 1e-3)
        return state, loss

    return state, run


def jax_step(batch_size: int, augment: bool):
    """The same network in plain JAX."""
    keys = iter(jax.random.split(jax.random.PRNGKey(0), 10))

    def he(shape):  # HWIO
        fan_in = np.prod(shape[:-1])
        return jax.random.normal(next(keys), shape) * np.sqrt(2 / fan_in)

    params = {
        "c1": he((3, 3, 1, F1)), "g1": jnp.ones(F1), "b1": jnp.zeros(F1),
        "c2": he((3, 3, F1, F2)), "g2": jnp.ones(F2), "b2": jnp.zeros(F2),
        "c3": he((3, 3, F2, F3)), "g3": jnp.ones(F3), "b3": jnp.zeros(F3),
        "w": he((5 * 5 * F3, 10)) * 0.5, "bias": jnp.zeros(10),
    }
    widths = ((1, F1), (2, F2), (3, F3))
    stats = {f"{k}{i}": (jnp.zeros(f) if k == "m" else jnp.ones(f)) for i, f in widths for k in "mv"}

    def conv_bn_relu(x, params, stats, new_stats, i, padding):
        x = jax.lax.conv_general_dilated(
            x, params[f"c{i}"], (1, 1), padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
        mean, var = jnp.mean(x, axis=(0, 1, 2)), jnp.var(x, axis=(0, 1, 2))
        new_stats[f"m{i}"] = 0.9 * stats[f"m{i}"] + 0.1 * mean
        new_stats[f"v{i}"] = 0.9 * stats[f"v{i}"] + 0.1 * var
        x = (x - mean) * jax.lax.rsqrt(var + 1e-3) * params[f"g{i}"] + params[f"b{i}"]
        return jax.nn.relu(x)

    def pool(x):
        n, h, w, c = x.shape
        return jnp.max(x.reshape(n, h // 2, 2, w // 2, 2, c), axis=(2, 4))

    def loss_fn(params, stats, x, y, key):
        new_stats = {}
        x = pool(conv_bn_relu(x, params, stats, new_stats, 1, "SAME"))
        x = pool(conv_bn_relu(x, params, stats, new_stats, 2, "SAME"))
        x = conv_bn_relu(x, params, stats, new_stats, 3, "VALID").reshape(len(x), -1)
        keep = jax.random.bernoulli(key, 0.6, x.shape)
        x = jnp.where(keep, x / 0.6, 0)
        logits = x @ params["w"] + params["bias"]
        loss = -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1))
        return loss, new_stats

    @jax.jit
    def step(state, images, labels, batch, key, lr):
        params, stats, (m, v, t) = state
        x, y = images[batch], labels[batch]
        if augment:
            x = random_affine(key, x, **AUG)
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, stats, x, y, key)
        t = t + 1
        m = jax.tree.map(lambda m, g: 0.9 * m + 0.1 * g, m, grads)
        v = jax.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, v, grads)
        scale = lr * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        params = jax.tree.map(lambda p, m, v: p - scale * m / (jnp.sqrt(v) + 1e-7), params, m, v)
        return (params, stats, (m, v, t)), loss

    zeros = jax.tree.map(jnp.zeros_like, params)
    state = (params, stats, (zeros, zeros, jnp.zeros((), jnp.float32)))
    images, labels = _data(batch_size * 4)
    batch = np.arange(batch_size)
    return state, lambda state, i: step(state, images, labels, batch, jax.random.PRNGKey(i), 1e-3)


def torch_step(batch_size: int, augment: bool):
    import torch
    from torch import nn
    from torch.nn import functional as F

    torch.manual_seed(0)

    def block(cin, cout, padding):
        return [nn.Conv2d(cin, cout, 3, padding=padding, bias=False), nn.BatchNorm2d(cout, momentum=0.1), nn.ReLU()]

    model = nn.Sequential(
        *block(1, F1, 1), nn.MaxPool2d(2), *block(F1, F2, 1), nn.MaxPool2d(2), *block(F2, F3, 0),
        nn.Flatten(), nn.Dropout(0.4), nn.Linear(5 * 5 * F3, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    images, labels = _data(batch_size)
    x_all = torch.from_numpy(np.asarray(images)).permute(0, 3, 1, 2).contiguous()
    y_all = torch.from_numpy(np.asarray(labels)).long()

    def run(state, i):
        x = x_all
        if augment:
            n = len(x)
            angle = torch.deg2rad((torch.rand(n) * 2 - 1) * AUG["rotation"])
            zoom = 1 + (torch.rand(n) * 2 - 1) * AUG["scale"]
            shift = (torch.rand(2, n) * 2 - 1) * AUG["shift"] * 2 / 28
            cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
            theta = torch.stack([torch.stack([cos, sin, shift[0]], 1), torch.stack([-sin, cos, shift[1]], 1)], 1)
            x = F.grid_sample(x, F.affine_grid(theta, list(x.shape), align_corners=False), align_corners=False)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y_all)
        loss.backward()
        optimizer.step()
        return state, loss

    return None, run


def _data(n):
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.random((n, 28, 28, 1), np.float32)), jnp.asarray(rng.integers(0, 10, n, dtype=np.int32))


def images_per_second(state, run, steps: int, batch_size: int) -> tuple[object, float]:
    for i in range(3):
        state, loss = run(state, i)
    _block(loss)
    start = time.perf_counter()
    for i in range(steps):
        state, loss = run(state, i)
    _block(loss)
    return state, steps * batch_size / (time.perf_counter() - start)


def _block(loss):
    if hasattr(loss, "block_until_ready"):
        loss.block_until_ready()
    else:
        float(loss)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="time only these contenders (keras, keras-pool, "
                        "jax, torch), with and without augmentation")
    args = parser.parse_args(argv)
    bs = args.batch_size
    wanted = set(args.only or ("keras", "keras-pool", "jax", "torch"))
    contenders = {}
    for augment in (False, True):
        tag = ", augmented" if augment else ""
        if "keras" in wanted:
            contenders[f"keras{tag}"] = keras_step(bs, augment)
        if "keras-pool" in wanted:
            contenders[f"keras, MaxPooling2D{tag}"] = keras_step(bs, augment, keras_pool=True)
        contenders[f"jax{tag}"] = jax_step(bs, augment)  # the reference of the ratios
        if "torch" in wanted:
            try:
                contenders[f"torch {__import__('torch').__version__}{tag}"] = torch_step(bs, augment)
            except ImportError:
                pass
    results = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, (state, run) in contenders.items():
            state, rate = images_per_second(state, run, args.steps, bs)
            contenders[name] = (state, run)
            results[name].append(rate)
    print(f"training step, batch {bs}, {args.steps} steps x {args.rounds} rounds, {os.cpu_count()} CPUs, "
          f"keras {keras.__version__}, jax {jax.__version__}")
    median = {name: float(np.median(rates)) for name, rates in results.items()}
    for name, rate in median.items():
        augmented = name.endswith("augmented")
        jax_rate = median["jax, augmented" if augmented else "jax"]
        print(f"{name:32s} {rate:7.0f} images/s  ({60000 / rate:5.1f} s per 60k epoch)  "
              f"ratio to plain JAX {rate / jax_rate:.2f}")


if __name__ == "__main__":
    main()

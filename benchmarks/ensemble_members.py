"""Candidate members for a 99.80% ensemble, measured on this machine (issue 16).

    .venv/bin/python benchmarks/ensemble_members.py speed   # a minute or two
    .venv/bin/python benchmarks/ensemble_members.py idm     # about 11 minutes (idm_knn's predictions)

``speed``: training throughput (images per second, after compilation, with the ``cnn``
recipe's augmentation) of the ``cnn`` network and of Deotte's deeper network
(32C3-32C3-32C5S2-64C3-64C3-64C5S2-128C4 with batch norm and dropout 0.4, Kaggle "MNIST
CNN 99.75"), both in the workbench's own training step: one epoch of 6,000 images, twice each.

``idm``: the shipped ``cnn_ensemble``'s three networks with the deformation-tolerant kNN
(``idm_knn``, fitted here on the 60,000 training images) as a fourth member, probabilities
averaged on the 10,000 test images; also the kNN at a few other weights (for reading only: a
weight picked on the test set is not a result).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def deotte_network(n_classes: int = 10, *, seed: int | None = None, **_):
    """Deotte's network, built as :func:`workbench.cnn_layers.build_cnn` builds ours."""
    from workbench.backend import keras

    layers = keras.layers

    def conv(x, filters, kernel, strides=1, padding="valid"):
        x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
        return layers.ReLU()(layers.BatchNormalization(momentum=0.9)(x))

    inputs = keras.Input((28, 28, 1))
    x = conv(conv(inputs, 32, 3), 32, 3)
    x = layers.Dropout(0.4, seed=seed)(conv(x, 32, 5, 2, "same"))
    x = conv(conv(x, 64, 3), 64, 3)
    x = layers.Dropout(0.4, seed=seed)(conv(x, 64, 5, 2, "same"))
    x = layers.Dropout(0.4, seed=seed)(layers.Flatten()(conv(x, 128, 4)))
    return keras.Model(inputs, layers.Dense(n_classes, name="logits")(x))


def speed() -> None:
    import workbench.cnn_layers
    from workbench.cnn import CNNClassifier
    from workbench.data import load_mnist
    from workbench.transforms import MnistNormalize

    X, y = load_mnist("train", subset=6000)
    Z = MnistNormalize().fit_transform(X)
    ours = workbench.cnn_layers.build_cnn
    for name, build in (("cnn", ours), ("Deotte", deotte_network)):
        workbench.cnn_layers.build_cnn = build  # CNNClassifier builds its network through this name
        try:
            clf = CNNClassifier(epochs=1, corruption=0.5, random_state=0).fit(Z[:256], y[:256])  # compiles
            clf.set_params(warm_start=True)
            for _ in range(2):
                start = time.perf_counter()
                clf.fit(Z, y)
                print(f"{name:7} {len(Z) / (time.perf_counter() - start):6.0f} images/s", flush=True)
        finally:
            workbench.cnn_layers.build_cnn = ours


def idm() -> None:
    from workbench.data import load_mnist
    from workbench.registry import get_pipeline
    from workbench.store import load_model

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    ensemble = load_model("cnn_ensemble")
    Z = ensemble[:-1].transform(X_test)
    networks = np.mean([est.predict_proba(Z) for est in ensemble[-1].estimators_], axis=0)
    knn = get_pipeline("idm_knn").fit(X, y).predict_proba(X_test)

    def accuracy(proba):
        return f"{100 * np.mean(proba.argmax(1) == y_test):.2f}%"

    wrong = networks.argmax(1) != y_test
    print(f"cnn_ensemble's networks {accuracy(networks)}, idm_knn {accuracy(knn)}; of the networks' "
          f"{wrong.sum()} errors the kNN reads {np.sum(wrong & (knn.argmax(1) == y_test))} right")
    print(f"four members, equal weights: {accuracy((3 * networks + knn) / 4)}")
    for weight in (0.1, 0.15, 0.2, 0.3, 0.4):
        print(f"  kNN weight {weight}: {accuracy((1 - weight) * networks + weight * knn)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["speed", "idm"])
    {"speed": speed, "idm": idm}[parser.parse_args().what]()


if __name__ == "__main__":
    main()

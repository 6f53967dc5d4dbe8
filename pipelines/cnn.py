"""Convolutional network (Keras 3 on JAX) on MNIST-normalised digits: the default model.

Two convolution blocks and a dense layer, trained with Adam. Its input is centred by
``MnistNormalize`` so that drawings and camera crops reach it in the MNIST convention.
"""

from sklearn.pipeline import Pipeline

from workbench.cnn import CNNClassifier
from workbench.transforms import MnistNormalize


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("normalize", MnistNormalize()),
        ("clf", CNNClassifier(epochs=10, random_state=0)),
    ])

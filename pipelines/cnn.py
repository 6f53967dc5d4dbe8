"""Convolutional network (Keras 3 on JAX) on MNIST-normalised digits: the default model.

Three 3x3 convolutions with batch norm (32, 64, 128 channels, two 2x2 max pools), a hidden
dense layer and dropout; Adam with one epoch of warm-up and cosine decay over 25 epochs, and
random rotation (12 degrees), scaling (10%) and shift (2 pixels) of every training batch, and
noise, blur, thinner or thicker strokes on half of the images (robustness to camera crops and
pens), and 6,000 printed digits in the training half of the fonts (light to ultra-bold) beside
MNIST's 60,000, so that printed numbers read as well as handwriting. Its input is centred by
``MnistNormalize`` (whose ink box is robust to noise and blur) so that drawings and camera crops
reach it in the MNIST convention.
"""

from sklearn.pipeline import Pipeline

from workbench.cnn import CNNClassifier
from workbench.transforms import MnistNormalize


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("normalize", MnistNormalize()),
        ("clf", CNNClassifier(epochs=25, corruption=0.5, printed=0.1, random_state=0)),
    ])

"""Logistic regression on the 784 pixels scaled to [0, 1]: the linear baseline.

Multinomial logistic regression (lbfgs) on raw pixels. About 92% on the MNIST test set:
what a linear model can do with no features.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from workbench.transforms import ImageInput


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("input", ImageInput()),
        ("clf", LogisticRegression(max_iter=200, tol=1e-3)),
    ])

"""Random forest of 200 trees on raw pixels: the tree-ensemble baseline.

Needs no scaling or features and fits in under a minute on all cores; its fitted model is
large (tens of MB), so it is built on demand rather than shipped.
"""

from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from workbench.transforms import ImageInput


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("input", ImageInput()),
        ("clf", RandomForestClassifier(n_estimators=200, n_jobs=-1, random_state=0)),
    ])

"""PCA to 50 components, then 3-nearest-neighbours: the memory-based baseline.

PCA removes pixel noise and makes neighbour search cheap; k-NN then votes among the
3 closest training digits (distance-weighted, so that probabilities are not all thirds).
"""

from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline

from workbench.transforms import ImageInput


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("input", ImageInput()),
        ("pca", PCA(n_components=50, random_state=0)),
        ("clf", KNeighborsClassifier(n_neighbors=3, weights="distance")),
    ])

"""PCA to 50 whitened components, then an RBF-kernel SVM on pixels: the kernel baseline.

Whitening puts every component on the same scale, which suits the RBF kernel. Probabilities
come from sigmoid calibration on 3 folds (the replacement for ``SVC(probability=True)``).
"""

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from workbench.transforms import ImageInput


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("input", ImageInput()),
        ("pca", PCA(n_components=50, whiten=True, random_state=0)),
        ("clf", CalibratedClassifierCV(SVC(C=10), cv=3, ensemble=False)),
    ])

"""Deskew by image moments, then PCA(50, whitened) + RBF SVM: what straightening buys.

The same model as ``svc_rbf`` on deskewed digits; compare the two to see the effect of
removing the slant (LeCun's table: deskewing roughly halves the error of many classifiers).
"""

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from workbench.transforms import Deskew


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("deskew", Deskew()),
        ("pca", PCA(n_components=50, whiten=True, random_state=0)),
        ("clf", CalibratedClassifierCV(SVC(C=10), cv=3, ensemble=False)),
    ])

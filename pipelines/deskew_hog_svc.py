"""Deskew, then HOG + PCA(100, whitened) + RBF SVM: the strongest classical pipeline.

``hog_svc`` on straightened digits. Deskewing first makes the orientation histograms of
one digit written with different slants agree.
"""

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from workbench.transforms import Deskew, Hog


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("deskew", Deskew()),
        ("hog", Hog(orientations=9, pixels_per_cell=4, cells_per_block=2)),
        ("pca", PCA(n_components=100, whiten=True, random_state=0)),
        ("clf", CalibratedClassifierCV(SVC(C=10), cv=3, ensemble=False)),
    ])

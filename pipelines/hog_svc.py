"""HOG features (9 orientations, 4x4-pixel cells), PCA(100, whitened), RBF SVM.

Gradient-orientation histograms describe strokes rather than pixels, so small shifts and
thickness changes matter less; PCA cuts the 1,296 HOG features to 100 so that the kernel
SVM stays fast enough for live use.
"""

from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from workbench.transforms import Hog


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("hog", Hog(orientations=9, pixels_per_cell=4, cells_per_block=2)),
        ("pca", PCA(n_components=100, whiten=True, random_state=0)),
        ("clf", CalibratedClassifierCV(SVC(C=10), cv=3, ensemble=False)),
    ])

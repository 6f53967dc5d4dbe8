"""deskew_svc retrained on its support vectors and their one-pixel shifts (virtual SVM).

The first fit is ``deskew_svc`` (deskewed pixels, PCA, RBF SVM); its support vectors are
copied shifted one pixel up, down, left and right, and the same pipeline is fitted again on
them (DeCoste & Schoelkopf 2002). Shifts teach a pixel-based SVM what HOG features already
tolerate, so this gains more over its base than ``deskew_hog_vsvc`` does. See
:mod:`workbench.virtual`.
"""

from sklearn.pipeline import Pipeline

from workbench.pipelines.deskew_svc import make_pipeline as deskew_svc
from workbench.virtual import VirtualSupportVectors


def make_pipeline() -> Pipeline:
    return Pipeline([("clf", VirtualSupportVectors(deskew_svc()))])

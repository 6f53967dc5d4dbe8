"""deskew_hog_svc retrained on its support vectors and their one-pixel shifts (virtual SVM).

The first fit is ``deskew_hog_svc``; its support vectors (the training images on the class
boundaries) are copied shifted one pixel up, down, left and right, and the same pipeline is
fitted again on them (DeCoste & Schoelkopf 2002). See :mod:`workbench.virtual`.
"""

from sklearn.pipeline import Pipeline

from workbench.pipelines.deskew_hog_svc import make_pipeline as deskew_hog_svc
from workbench.virtual import VirtualSupportVectors


def make_pipeline() -> Pipeline:
    return Pipeline([("clf", VirtualSupportVectors(deskew_hog_svc()))])

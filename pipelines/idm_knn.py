"""3-nearest-neighbours under the image distortion model (IDM): every pixel may move 2 pixels.

The deformation-tolerant kNN of Keysers et al. (PAMI 2007): a digit is compared with a
training digit pixel by pixel, each pixel matched to the best one within 2 pixels of its place,
by the 3x3 neighbourhood of the image gradients around it; the 3 nearest of the 400 training
digits closest in Euclidean distance (after a slight blur) vote. No training: fitting stores
the digits. See :mod:`workbench.deformation`.
"""

from sklearn.pipeline import Pipeline

from workbench.deformation import DeformationKNN
from workbench.transforms import ImageInput

#: Left out of ``workbench compare --quick`` unless named: about 40 ms a digit, so the quick
#: comparison's 20,000 predictions (robustness, learning curve, test) take it about 17 minutes.
QUICK = False


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("input", ImageInput()),
        ("clf", DeformationKNN(n_neighbors=3, warp=2, candidates=400)),
    ])

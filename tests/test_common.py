"""sklearn's estimator checks over every transformer and estimator the workbench defines.

The workbench's estimators take digit images: (n, 28, 28), (n, 784) or (n, 28, 28, 1) pixels.
sklearn's generic checks feed small tabular arrays (a few features, negative or unbounded
values), which an image transformer must reject, so the checks that depend on such data are
listed below as expected failures, each with its reason. Every other check must pass.

``KerasDigitClassifier`` (an imported Keras network) is the one estimator left out: it is never
fitted here (its ``fit`` refuses: the network was trained elsewhere), and every one of these
checks starts by fitting; tests/test_import_export.py checks its contract.
"""

from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from workbench.cnn import CNNClassifier
from workbench.deformation import DeformationKNN
from workbench.transforms import Deskew, Hog, ImageInput, MnistNormalize
from workbench.virtual import VirtualSupportVectors

ESTIMATORS = [
    ImageInput(),
    MnistNormalize(),
    Deskew(),
    Hog(pixels_per_cell=7),
    CNNClassifier(epochs=1, filters1=4, filters2=4, filters3=8, random_state=0),
    DeformationKNN(candidates=10),
    VirtualSupportVectors(make_pipeline(ImageInput(), SVC(probability=True, random_state=0))),
]


def expected_failures(estimator) -> dict[str, str]:
    from tests._expected import EXPECTED

    return EXPECTED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)

"""Three cnn networks trained from seeds 0, 1 and 2, their probabilities averaged.

Each member is the ``cnn`` pipeline's network and recipe as it was on 2026-11-25 (25 epochs,
augmentation, noise and stroke corruption on half the images; no printed digits, which
``cnn`` has learned from since); only the seed differs, so the members err on different
digits and the average errs on fewer. Fitting trains the three in turn (about three times
``cnn``'s time); predicting runs the three networks on each batch.
"""

from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

from workbench.cnn import CNNClassifier
from workbench.transforms import MnistNormalize

SEEDS = (0, 1, 2)

#: Left out of ``workbench compare --quick`` unless named: every fit trains three networks
#: (about 16 of the quick comparison's minutes on two cores).
QUICK = False


def make_pipeline() -> Pipeline:
    return Pipeline([
        ("normalize", MnistNormalize()),
        ("clf", VotingClassifier(
            [(f"cnn{seed}", CNNClassifier(epochs=25, corruption=0.5, random_state=seed)) for seed in SEEDS],
            voting="soft",
        )),
    ])

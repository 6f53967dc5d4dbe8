"""Adapting a model to its user's corrections (`workbench adapt`): tiny models, a simulated
user who writes in a style MNIST hardly holds (continental 1, crossed 7, slashed 0)."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from workbench import load_mnist
from workbench.adapt import AdaptError, adapt, adapt_from_log, confusable, nearest, split_corrections
from workbench.cli import main
from workbench.cnn import CNNClassifier
from workbench.live.log import PredictionLog
from workbench.store import load_model, save_model
from workbench.synth import CONTINENTAL, WRITERS, continental, continental_user, in_style
from workbench.transforms import MnistNormalize


@pytest.fixture(scope="module")
def user():
    """The continental user's drawings of 0, 1 and 7 from MNIST test digits, as the canvas
    reader brings them to the model: 40 to correct and 60 to score on."""
    X, y = load_mnist("test")
    images, labels = continental_user(X, y, np.random.default_rng(0), 100 // len(CONTINENTAL) + 1, labels=CONTINENTAL)
    return images[:40], labels[:40], images[40:], labels[40:]


@pytest.fixture(scope="module")
def mnist():
    X, y = load_mnist("train", subset=3000)
    X_test, y_test = load_mnist("test", subset=500, random_state=1)
    return X, y, X_test, y_test


@pytest.fixture(scope="module")
def small_cnn(mnist):
    X, y, _, _ = mnist
    cnn = CNNClassifier(filters1=8, filters2=16, filters3=16, dense_units=32, epochs=4, batch_size=64,
                        learning_rate=3e-3, random_state=0)
    return Pipeline([("normalize", MnistNormalize()), ("clf", cnn)]).fit(X, y)


def test_the_continental_style_changes_only_its_digits():
    X, y = load_mnist("test", subset=50)
    for image, label in zip(X, y, strict=True):
        styled = continental(image, label)
        assert (styled != image).any() == (label in CONTINENTAL)
        assert (styled >= image).all()  # strokes added, none removed


def test_each_simulated_writer_changes_only_their_digit():
    X, y = load_mnist("test", subset=100)
    for writer, digit in WRITERS.items():
        changed = np.array([(in_style(image, label, writer) != image).any() for image, label in zip(X, y, strict=True)])
        assert not changed[y != digit].any(), writer
        assert changed[y == digit].mean() >= 0.9, writer  # a 4 written closed already stays as it is


def test_fine_tuning_learns_the_users_style_and_keeps_mnist(small_cnn, mnist, user):
    X, y, X_test, y_test = mnist
    fit_X, fit_y, eval_X, eval_y = user
    before_user = np.mean(small_cnn.predict(eval_X) == eval_y)
    before_mnist = np.mean(small_cnn.predict(X_test) == y_test)
    weights = [w.copy() for w in small_cnn[-1].model_.get_weights()]
    adapted = adapt(small_cnn, fit_X, fit_y, X_train=X, y_train=y, replay=2000, neighbours=10, epochs=3,
                    learning_rate=1e-3)
    after_user = np.mean(adapted.predict(eval_X) == eval_y)
    after_mnist = np.mean(adapted.predict(X_test) == y_test)
    assert before_user < 0.6, "the style is read as MNIST reads it: the test needs a misread style"
    assert after_user >= before_user + 0.25
    assert after_mnist >= before_mnist - 0.03
    for old, now in zip(weights, small_cnn[-1].model_.get_weights(), strict=True):
        np.testing.assert_array_equal(old, now)  # the original is untouched


def test_an_ensemble_of_networks_is_fine_tuned_member_by_member(small_cnn, mnist, user):
    """cnn_ensemble's form (a soft vote of CNNs) is fine-tuned, each member in turn, not refitted
    from scratch (which would take three full trainings)."""
    from sklearn.ensemble import VotingClassifier
    from sklearn.preprocessing import LabelEncoder

    X, y, _, _ = mnist
    fit_X, fit_y, eval_X, eval_y = user
    vote = VotingClassifier([("cnn0", small_cnn[-1]), ("cnn1", small_cnn[-1])], voting="soft")
    vote.le_ = LabelEncoder().fit(y)  # fitted as VotingClassifier.fit leaves it, with trained members
    vote.classes_ = vote.le_.classes_
    vote.estimators_ = [copy.deepcopy(small_cnn[-1]) for _ in range(2)]
    ensemble = Pipeline([("normalize", small_cnn[0]), ("clf", vote)])
    before = [w.copy() for w in vote.estimators_[0].model_.get_weights()]
    adapted = adapt(ensemble, fit_X, fit_y, X_train=X, y_train=y, replay=2000, neighbours=10, epochs=3,
                    learning_rate=1e-3)
    assert [m.n_iter_ for m in adapted[-1].estimators_] == [small_cnn[-1].n_iter_ + 3] * 2  # warm: 3 more epochs
    assert np.mean(adapted.predict(eval_X) == eval_y) >= np.mean(ensemble.predict(eval_X) == eval_y) + 0.25
    for old, now in zip(before, vote.estimators_[0].model_.get_weights(), strict=True):
        np.testing.assert_array_equal(old, now)  # the original is untouched


def test_a_classical_pipeline_is_refitted_with_the_corrections(mnist, user):
    X, y, X_test, y_test = mnist
    fit_X, fit_y, eval_X, eval_y = user
    model = load_model("logreg")
    before = np.mean(model.predict(eval_X) == eval_y)
    adapted = adapt(model, fit_X, fit_y, X_train=X, y_train=y)
    assert adapted is not model and type(adapted) is type(model)
    assert np.mean(adapted.predict(eval_X) == eval_y) >= before + 0.2


def test_held_out_corrections_are_never_learnt_from(user):
    X, y, _, _ = user
    X_fit, y_fit, X_held, y_held = split_corrections(X, y, holdout=0.25)
    assert len(y_held) == 10 and len(y_fit) == 30
    fit_rows = {image.tobytes() for image in X_fit}
    assert not any(image.tobytes() in fit_rows for image in X_held)
    with pytest.raises(AdaptError, match="at least 5 corrected records"):
        split_corrections(X[:4], y[:4])


def test_nearest_finds_the_closest_training_images(mnist):
    X = mnist[0]
    assert set(nearest(X[:3], X, 1).tolist()) == {0, 1, 2}


def test_confusable_images_are_of_other_classes(mnist):
    X, y = mnist[0], mnist[1]
    near = confusable(X[:20], y[:20], X, y, 5)
    assert 20 <= len(near) <= 100
    labels = {int(label) for label in y[:20]}
    for i in near:  # each found for a correction of another class
        assert labels - {int(y[i])}
    sevens = confusable(X[y == 7][:1], np.array([7]), X, y, 5)
    assert (y[sevens] != 7).all()


def test_the_report_says_before_and_after(small_cnn, mnist, user):
    X, y, X_test, y_test = mnist
    _, report = adapt_from_log(small_cnn, *user[:2], X_train=X, y_train=y, X_test=X_test, y_test=y_test,
                               replay=500, neighbours=5, epochs=1)
    assert report["corrections"]["used"] == 40
    assert set(report["held_out_accuracy"]) == {"before", "after", "held_out", "learnt_from"}
    assert 0 <= report["mnist_test_accuracy"]["after"] <= 1 and report["mnist_test_accuracy"]["n"] == len(y_test)


def test_every_correction_reaches_the_final_fit(small_cnn, mnist, user, monkeypatch):
    """The held-out share measures the adaptation and then teaches too: the model returned was
    fitted on every correction, the measuring fit on all but the held-out ones."""
    X, y, X_test, y_test = mnist
    corrections, labels = user[:2]
    fits = []
    real_fit = CNNClassifier.fit

    def spy(self, images, targets):
        fits.append({np.asarray(image).tobytes() for image in images})
        return real_fit(self, images, targets)

    monkeypatch.setattr(CNNClassifier, "fit", spy)
    adapted, report = adapt_from_log(small_cnn, corrections, labels, X_train=X, y_train=y, X_test=X_test,
                                     y_test=y_test, replay=300, neighbours=2, repeats=2, epochs=1)
    assert len(fits) == 2  # the measuring fit, then the final one
    seen = [small_cnn[0].transform(image[None])[0].tobytes() for image in corrections]  # as the network sees them
    _, _, held_X, _ = split_corrections(corrections, labels)
    held = {small_cnn[0].transform(image[None])[0].tobytes() for image in held_X}
    assert held and not held & fits[0]  # the measure never saw the digits it is scored on
    assert all(image in fits[1] for image in seen)  # the final fit saw every one
    assert report["corrections"]["used"] == 40
    assert report["held_out_accuracy"]["held_out"] == len(held) and report["held_out_accuracy"]["learnt_from"] == 30


def test_labels_from_every_way_in_are_the_same_examples(tmp_path, user):
    """A drawing taught with the app's buttons, a file read by predict and labelled with `log
    --correct`, a camera digit labelled in the Log tab (all PredictionLog.correct), a
    confirmation among them: adapt gets the same images and labels whichever way they came."""
    images, labels = user[0][:3], user[1][:3]
    log_path = tmp_path / "log.sqlite"
    with PredictionLog(log_path) as log:
        ids = [log.add(source, "cnn", "0" * 64, read, 0.9, np.full(10, 0.1), 1.0, image)
               for source, read, image in zip(("draw", "file", "camera"), (int(labels[0]), 3, 5), images, strict=True)]
        log.correct(ids[0], int(labels[0]))  # the app's "That was a" button: a confirmation
        log.correct(ids[2], int(labels[2]))  # the Log tab
    assert main(["log", "--log", str(log_path), "--correct", f"{ids[1]}={int(labels[1])}"]) == 0
    with PredictionLog(log_path) as log:
        X, y = log.corrections()
        assert log.count_confirmations() == 1
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)


def test_workbench_adapt_saves_a_new_model_beside_the_old(models_dir, tmp_path, mnist, user, capsys):
    X, y, _, _ = mnist
    shipped = Path(__file__).parents[1] / "models" / "logreg.json"  # the models folder is the test's own
    save_model(load_model(shipped), "mine", metadata={"pipeline": "logreg"})
    log_path = tmp_path / "log.sqlite"
    with PredictionLog(log_path) as log:
        probabilities = np.full(10, 0.1)
        for image, label in zip(*user[:2], strict=True):
            record = log.add("draw", "mine", "0" * 64, 7, 0.9, probabilities, 1.0, image)
            log.correct(record, int(label))
    before = (models_dir / "mine.json").read_bytes()
    assert main(["adapt", "mine", "--log", str(log_path)]) == 0
    out = capsys.readouterr().out
    sevens = int(np.sum(user[1] == 7))  # logged as read 7: those labels confirm the answer
    assert "mine-adapted: adapted from mine" in out and f"({40 - sevens} corrections, {sevens} confirmations)" in out
    assert "your digits, 10 held out (adapted on the other 30 to measure)" in out
    meta = json.loads((models_dir / "mine-adapted.json").read_text())
    assert meta["adapted_from"]["name"] == "mine" and meta["adaptation"]["corrections"]["used"] == 40
    assert meta["test"]["n"] == 10_000
    assert (models_dir / "mine.json").read_bytes() == before  # nothing saved is lost
    load_model("mine-adapted")
    assert main(["adapt", "mine", "--log", str(log_path), "--name", "mine"]) == 2
    assert "cannot replace 'mine'" in capsys.readouterr().err
    assert main(["adapt", "mine", "--log", str(tmp_path / "none.sqlite")]) == 1
    assert "no prediction log" in capsys.readouterr().err

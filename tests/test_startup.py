"""What makes the cold path fast, checked without timing it (benchmarks/startup.py times it):
commands that read no digit import neither scikit-learn nor JAX nor Keras, a loaded CNN builds
no network and no optimizer, a second process reuses the XLA programs the first compiled, and
the inputs and the model name are checked before any model loads."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from workbench.data import load_mnist

HEAVY = ("sklearn", "jax", "keras", "skops", "scipy", "pandas")


def _clean_env(env: dict | None) -> dict:
    """This environment without the JAX cache settings an earlier in-process command exported
    (they are for child processes of that command), plus ``env``."""
    import os

    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("JAX_COMPILATION_CACHE", "JAX_PERSISTENT"))}
    return {**inherited, **(env or {})}


def _run(code: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=_clean_env(env))


def _imported_after(argv: list[str]) -> tuple[int, list[str], str]:
    """Run ``workbench ARGV`` in a fresh process: its exit code, which heavy packages it
    imported, and what it wrote on stderr."""
    code = (
        "import sys\n"
        "from workbench.cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"print('RESULT', code, [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    done = _run(code)
    line = [line for line in done.stdout.splitlines() if line.startswith("RESULT")][-1]
    _, exit_code, modules = line.split(" ", 2)
    return int(exit_code), eval(modules), done.stderr  # noqa: S307 - our own print of a list of names


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["models"], ["predict"], ["fit", "--nosuch"],
                                  ["predict", "/nonexistent/seven.png"], ["predict", "--model", "nosuch", "x.png"]])
def test_commands_that_read_no_digit_import_nothing_heavy(argv, tmp_path):
    code, modules, stderr = _imported_after(argv)
    assert modules == [], f"workbench {' '.join(argv)} imported {modules}"
    if argv[0] == "predict" and len(argv) > 1:  # each problem in a line of its own
        lines = stderr.splitlines()
        assert code == 1 and lines and all(line.startswith("workbench: error:") for line in lines), stderr
        assert len(lines) == (2 if "nosuch" in argv else 1), stderr


def test_a_missing_model_is_said_before_anything_loads(tmp_path):
    image = tmp_path / "seven.png"
    import cv2

    cv2.imwrite(str(image), np.full((28, 28), 255, np.uint8))
    code, modules, stderr = _imported_after(["predict", "--model", "nosuch", str(image)])
    assert code == 1 and "no model 'nosuch'" in stderr and modules == []


def test_list_imports_no_jax_or_keras():
    code, modules, _ = _imported_after(["list"])
    assert code == 0 and "jax" not in modules and "keras" not in modules


def test_a_loaded_cnn_predicts_without_keras_a_network_or_an_optimizer():
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from workbench.store import load_model\n"
        "clf = load_model('cnn')[-1]\n"
        "clf.predict_proba(np.zeros((3, 28, 28), np.uint8))\n"
        "print(sorted(k for k in ('_model', '_optimizer', '_train_step') if k in vars(clf)), 'keras' in sys.modules)\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["[]", "False"]


def test_a_loaded_cnn_trains_again_and_reads_as_the_keras_network_does(tmp_path):
    """The plain-JAX pass gives the Keras network's probabilities; training a loaded model
    builds the network and the optimizer then, and its predictions follow the new weights."""
    from workbench.backend import jax
    from workbench.store import load_model

    pipe = load_model("cnn")
    clf = pipe[-1]
    X, y = load_mnist("test", subset=200)
    features = pipe[:-1].transform(X)
    proba = clf.predict_proba(features)
    x = np.asarray(features, np.float32).reshape(-1, 28, 28, 1)
    keras_proba = np.asarray(jax.nn.softmax(clf.model_(x, training=False)))
    np.testing.assert_allclose(proba, keras_proba, atol=1e-5)
    assert "_optimizer" not in vars(clf)
    clf.partial_fit(features[:64], y[:64])
    assert clf._optimizer is not None
    assert not np.allclose(clf.predict_proba(features), proba)
    np.testing.assert_allclose(clf.predict_proba(features),
                               np.asarray(jax.nn.softmax(clf.model_(x, training=False))), atol=1e-5)


def _seven(folder) -> str:
    import cv2

    X, _ = load_mnist("test", subset=None)
    path = folder / "seven.png"
    cv2.imwrite(str(path), 255 - cv2.resize(X[0], (140, 140), interpolation=cv2.INTER_CUBIC))
    return str(path)


COUNT_COMPILATIONS = """
import collections, json, sys
import jax
events = collections.Counter()
jax.monitoring.register_event_listener(lambda name, **kwargs: events.update([name]))
from workbench.cli import main
code = main(["predict", {path!r}, "--log", {log!r}])
print("EVENTS", json.dumps({{k.rsplit("/", 1)[-1]: v for k, v in events.items() if "compilation_cache" in k}}))
sys.exit(code)
"""


def test_a_second_process_loads_the_programs_the_first_compiled(tmp_path):
    env = {"WORKBENCH_XLA_CACHE": str(tmp_path / "xla")}
    script = COUNT_COMPILATIONS.format(path=_seven(tmp_path), log=str(tmp_path / "log.sqlite"))
    runs = []
    for _ in range(2):
        done = _run(script, env)
        assert done.returncode == 0, done.stderr
        assert "seven.png: 7" in done.stdout
        runs.append(json.loads(done.stdout.split("EVENTS", 1)[1]))
    first, second = runs
    assert first.get("cache_misses", 0) >= 1 and first.get("cache_hits", 0) == 0, first
    assert second.get("cache_hits", 0) >= 1 and second.get("cache_misses", 0) == 0, second
    assert any((tmp_path / "xla").iterdir())


def test_two_processes_share_an_empty_cache(tmp_path):
    env = {"WORKBENCH_XLA_CACHE": str(tmp_path / "xla")}
    script = COUNT_COMPILATIONS.format(path=_seven(tmp_path), log=str(tmp_path / "log.sqlite"))
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=_clean_env(env)) for _ in range(2)]
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0 and "seven.png: 7" in out, err
        assert "Warning" not in err and "Error" not in err, err


@pytest.mark.parametrize("setting", ["off", "/dev/null/xla"])
def test_without_a_usable_cache_folder_commands_still_read(tmp_path, setting):
    """``off`` turns the cache off; a folder that cannot be made (or written) leaves it off."""
    done = _run(COUNT_COMPILATIONS.format(path=_seven(tmp_path), log=str(tmp_path / "log.sqlite")),
                {"WORKBENCH_XLA_CACHE": setting})
    assert done.returncode == 0 and "seven.png: 7" in done.stdout, done.stderr
    events = json.loads(done.stdout.split("EVENTS", 1)[1])
    assert events.get("cache_hits", 0) == 0 and events.get("cache_misses", 0) == 0, events  # none read or written


def test_the_cache_folder_setting(monkeypatch, tmp_path):
    from workbench.backend import compilation_cache_dir

    monkeypatch.setenv("WORKBENCH_XLA_CACHE", "OFF")
    assert compilation_cache_dir() is None
    monkeypatch.setenv("WORKBENCH_XLA_CACHE", str(tmp_path))
    assert compilation_cache_dir() == tmp_path
    monkeypatch.delenv("WORKBENCH_XLA_CACHE")
    assert compilation_cache_dir().parts[-2:] == ("workbench", "xla")

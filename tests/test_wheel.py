"""The workbench as a user installs it: the wheel built from this checkout, installed into a
fresh virtualenv outside it, run from an empty folder with a home of its own.

The virtualenv gets the wheel alone (``--no-deps``); the dependencies are this environment's,
seen through a path entry (its site folder is not processed, so its editable install of the
workbench stays out of sight: the test checks that the wheel's files are the ones imported).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIGIT = ROOT / "docs" / "examples" / "drawing.png"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(workbench command, environment, the installed package's folder) of a fresh virtualenv."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            str(ROOT), "-w", str(work / "dist")], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next((work / "dist").glob("digit_workbench-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                              "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    target = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                  "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (target / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    home = work / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WORKBENCH_", "XDG_"))}
    env.update(HOME=str(home), WORKBENCH_XLA_CACHE="off", PYTHONDONTWRITEBYTECODE="1")
    return str(venv / "bin" / "workbench"), env, target / "workbench"


def _run(installed, folder: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    command, env, _ = installed
    return subprocess.run([command, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout)


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def test_the_installed_wheel_reads_a_digit_fits_into_the_users_folder_and_lists_both(installed, tmp_path):
    command, env, package = installed
    empty = tmp_path / "somewhere"
    empty.mkdir()
    shutil.copy(DIGIT, empty / "digit.png")
    shipped_before = _files(package / "models")
    assert {"cnn.json", "logreg.json", "cnn_ensemble.json", "gate/digit_gate.json"} <= set(shipped_before)

    python = str(Path(command).with_name("python"))
    where = subprocess.run([python, "-c", "import workbench; print(workbench.__file__)"], cwd=empty, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).parent == package  # the wheel's files, not this checkout's

    listing = _run(installed, empty, "models")
    assert listing.returncode == 0, listing.stderr
    assert "cnn " in listing.stdout and "shipped" in listing.stdout and "none of yours yet" in listing.stdout

    read = _run(installed, empty, "predict", "digit.png")
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip() == "digit.png: 7"

    fit = _run(installed, empty, "fit", "logreg", "--subset", "500", "--name", "mine")
    assert fit.returncode == 0, fit.stderr
    user_models = Path(env["HOME"]) / ".local" / "share" / "workbench" / "models"
    assert (user_models / "mine.json").is_file() and f"saved {user_models / 'mine.json'}" in fit.stdout

    listing = _run(installed, empty, "models")
    lines = listing.stdout.splitlines()
    assert any(line.startswith("mine ") and " yours " in line for line in lines), listing.stdout
    assert any(line.startswith("cnn ") and " shipped " in line for line in lines), listing.stdout

    # a shipped name is taken only on purpose
    same = _run(installed, empty, "fit", "logreg", "--subset", "500")
    assert same.returncode == 2 and "'logreg' is a shipped model" in same.stderr

    # nothing written where the user stands (but the log, in their data folder), nor into the package
    assert sorted(_files(empty)) == ["digit.png"]
    assert _files(package / "models") == shipped_before
    assert (Path(env["HOME"]) / ".local" / "share" / "workbench" / "predictions.sqlite").is_file()


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb (see .ci/setup)")
def test_the_installed_app_starts_headless_from_another_folder(installed, tmp_path, display):
    command, env, _ = installed
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    shot = tmp_path / "app.png"
    run = subprocess.run([command, "app", "--camera", "demo", "--frames", "5", "--screenshot", str(shot)],
                         cwd=empty, env={**env, "DISPLAY": display}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert shot.stat().st_size > 10_000 and sorted(_files(empty)) == []

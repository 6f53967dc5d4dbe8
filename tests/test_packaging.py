"""What gets installed: the workbench's own namespace only, every folder of it."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_folder_of_the_package_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "workbench").rglob("*")
               if p.is_dir() and p.name != "__pycache__" and any(f.is_file() for f in p.iterdir())}
    folders |= {"workbench", "workbench.pipelines", "workbench.models", "workbench.models.gate"}
    folders.discard("workbench.data")  # only holds data/mnist
    assert listed == folders
    assert config["package-dir"] == {"workbench.pipelines": "pipelines", "workbench.models": "models"}


def test_no_top_level_pipelines_module_and_a_foreign_one_does_not_collide(tmp_path):
    foreign = tmp_path / "pipelines"
    foreign.mkdir()
    (foreign / "__init__.py").write_text("raise SystemExit('the foreign pipelines package was imported')\n")
    run = subprocess.run([sys.executable, "-m", "workbench.cli", "list"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("built in (workbench.pipelines):\n  cnn") and "foreign" not in run.stdout + run.stderr
    import workbench.pipelines

    assert Path(workbench.pipelines.__path__[0]).resolve() == ROOT / "pipelines"
    assert "pipelines" not in sys.modules  # the registry imports workbench.pipelines only


def test_no_panel_imports_another_and_the_live_layer_imports_no_ui_training_or_fixtures():
    """The floor plan: panels talk through AppState, the live layer knows nothing of the app."""
    import ast

    package = ROOT / "workbench"

    def imports(path: Path) -> set[str]:
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
        return names

    for panel in (package / "app" / "panels").glob("*.py"):
        assert not {n for n in imports(panel) if n.startswith("workbench.app.panels")}, panel.name
    outside = ("workbench.app", "dearpygui",  # UI
               "workbench.gate_training", "workbench.adapt", "workbench.cnn_training", "workbench.printed",  # training
               "workbench.synth")  # fixtures
    for module in (package / "live").glob("*.py"):  # (training and fixtures import the live layer, not the reverse)
        assert not {n for n in imports(module) if n.startswith(outside)}, module.name

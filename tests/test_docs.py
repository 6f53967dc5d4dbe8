"""The documentation holds together: every link of README.md and docs/ leads somewhere (a file
of the repository, a heading of the page), every command shown as run (``$ workbench ...``)
is one the command line accepts, and the README stays a guide (at most 300 lines)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from workbench.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "benchmarks" / "README.md", ROOT / "models" / "README.md",
         *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _outside_code(text: str) -> str:
    """The page without its fenced code blocks (a link or heading shown as code is not one)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    anchors = set()
    for line in _outside_code(page.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_somewhere(page):
    broken = []
    for target in LINK.findall(_outside_code(page.read_text())):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        goal = (page.parent / path).resolve() if path else page
        if not goal.exists():
            broken.append(f"{target}: no such file")
        elif anchor and goal.suffix == ".md" and anchor not in _anchors(goal):
            broken.append(f"{target}: no heading #{anchor} in {goal.relative_to(ROOT)}")
    assert not broken, broken


def _commands(page: Path) -> list[str]:
    """The ``workbench`` command lines a page shows as run (after a ``$`` prompt)."""
    found = []
    for line in page.read_text().splitlines():
        match = re.match(r"^\$ (?:\.venv/bin/)?workbench (.*)$", line.strip())
        if match:
            command = re.split(r"\s+(?:#|\||2?>)", match.group(1))[0]
            found.append(command)
    return found


@pytest.mark.parametrize("page", [p for p in PAGES if _commands(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_shown_as_run_is_accepted(page, capsys):
    parser = build_parser()
    for command in _commands(page):
        try:
            parser.parse_args(shlex.split(command))
        except SystemExit as exc:  # --help and --version exit 0 once they have printed
            if exc.code not in (0, None):
                pytest.fail(f"{page.name}: `workbench {command}` is not accepted by the command line")


def test_the_readme_is_a_guide():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    first_screen = "\n".join(text.splitlines()[:60])
    for command in ("bash .ci/setup && .venv/bin/workbench compare --quick",
                    "bash .ci/setup && .venv/bin/python -m pytest"):
        assert command in first_screen

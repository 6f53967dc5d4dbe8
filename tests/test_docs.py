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


SPAN = re.compile(r"`((?:\.venv/bin/)?(?:workbench|python|bash) [^`]+)`"
                  r"|^\s*((?:\.venv/bin/)?(?:python|bash) \S.*)$", re.M)


def _spans(page: Path) -> list[str]:
    """Every command a page names in code (inline spans and lines of code blocks)."""
    return [" ".join((a or b).split()) for a, b in SPAN.findall(page.read_text())]


def _options(parser) -> dict[str, set[str]]:
    """Each subcommand's option strings."""
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return {name: {s for action in p._actions for s in action.option_strings} for name, p in sub.choices.items()}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_named_in_code_exists_with_its_options(page):
    """A `workbench CMD --flag` named anywhere in a page is a command with that option, and a
    `benchmarks/NAME.py --flag` a script that has it: a renamed flag or script breaks the page."""
    options = _options(build_parser())
    wrong = []
    for span in _spans(page):
        words = span.split()
        if re.match(r"^(\.venv/bin/)?workbench$", words[0]):
            command = words[1] if len(words) > 1 else ""
            if command.startswith("-"):
                continue  # top-level options (--help, --version, --pipelines)
            if command not in options:
                wrong.append(f"{span}: no command {command!r}")
                continue
            flags = [w.split("=")[0] for w in words[2:] if w.startswith("--")]
            wrong += [f"{span}: {command} has no {flag}" for flag in flags if flag not in options[command]]
        for script in re.findall(r"benchmarks/[a-z_]+\.(?:py|sh)", span):
            path = ROOT / script
            if not path.exists():
                wrong.append(f"{span}: no {script}")
                continue
            after = span.split(script, 1)[1].split(";")[0].split("#")[0].split("&&")[0]
            source = path.read_text()
            wrong += [f"{span}: {script} has no {flag}" for flag in re.findall(r"(--[\w-]+)", after)
                      if f'"{flag}"' not in source and f"'{flag}'" not in source]
    assert not wrong, wrong


def test_every_benchmark_is_listed_with_its_command():
    listed = (ROOT / "docs" / "benchmarks.md").read_text()
    scripts = sorted(p.name for p in (ROOT / "benchmarks").iterdir() if p.suffix in (".py", ".sh"))
    assert scripts and not [s for s in scripts if f"benchmarks/{s}" not in listed]

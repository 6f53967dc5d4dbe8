"""`workbench compare`: corruptions, the comparison, its cache, and the report it writes."""

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import fit_pipeline, load_mnist, save_model
from workbench.cli import main
from workbench.compare import Settings, compare
from workbench.corruptions import CORRUPTIONS, corrupt
from workbench.live.log import PredictionLog
from workbench.report import leaderboard, write_report

TINY = Settings(folds=2, cv_subset=300, train_subset=600, test_subset=300, learning_sizes=(100, 300),
                robustness_subset=100, latency_calls=10)


@pytest.fixture(autouse=True)
def no_user_log(tmp_path, monkeypatch):
    """The user's own prediction log is never read by these tests."""
    monkeypatch.setenv("WORKBENCH_LOG", str(tmp_path / "absent.sqlite"))


# ---- corruptions

@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corruptions_start_from_the_clean_image_and_grow(kind):
    X, _ = load_mnist("test", subset=50)
    levels, _ = CORRUPTIONS[kind]
    clean = levels[1] if kind == "thickness" else levels[0]  # thickness starts at -1 (thinner)
    np.testing.assert_array_equal(corrupt(X, kind, clean), X)
    changes = [np.abs(corrupt(X, kind, level).astype(int) - X).mean() for level in levels if level != clean]
    out = corrupt(X, kind, levels[-1])
    assert out.shape == X.shape and out.dtype == np.uint8
    assert changes[-1] > 5  # the strongest level changes the image a lot (mean absolute change, 0-255)
    if kind != "thickness":
        assert changes == sorted(changes)


def test_corruptions_are_deterministic_and_refuse_unknown_kinds():
    X, _ = load_mnist("test", subset=20)
    np.testing.assert_array_equal(corrupt(X, "noise", 0.3, random_state=1), corrupt(X, "noise", 0.3, random_state=1))
    assert not np.array_equal(corrupt(X, "noise", 0.3, random_state=1), corrupt(X, "noise", 0.3, random_state=2))
    with pytest.raises(ValueError, match="unknown corruption 'fog'"):
        corrupt(X, "fog", 1)


# ---- the comparison and its report

def _log_with_corrections(path, n=12):
    X, y = load_mnist("test", subset=100, random_state=5)
    with PredictionLog(path) as log:
        for i in range(n):
            record = log.add("draw", "cnn", "0" * 64, int(y[i]), 0.9, np.full(10, 0.1), 1.0, X[i])
            log.correct(record, int(y[i]))
        log.add("draw", "cnn", "0" * 64, 3, 0.9, np.full(10, 0.1), 1.0, X[n])  # not corrected: not counted


class _Links(HTMLParser):
    """Collects the images, links and table cells of a page (and fails on malformed nesting)."""

    def __init__(self):
        super().__init__()
        self.images, self.links, self.tables, self._stack = [], [], {}, []
        self._table = self._row = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in ("img", "meta", "br", "link"):
            self._stack.append(tag)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "table":
            self._table = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)

    def handle_endtag(self, tag):
        assert self._stack and self._stack[-1] == tag, f"</{tag}> closes <{self._stack[-1:]}>"
        self._stack.pop()
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._stack and self._stack[-1] in ("td", "th") and self._row is not None:
            self._row.append(data.strip())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    log_path = tmp / "log.sqlite"
    _log_with_corrections(log_path)
    c = compare(["logreg", "pca_knn"], TINY, cache_dir=tmp / "cache", log_path=log_path, command="test")
    folder = write_report(c, tmp / "reports")
    return c, folder, tmp


def test_the_comparison_holds_every_part(report):
    c, _, _ = report
    assert list(c.cv.columns[:2]) == ["pipeline", "fold"] and len(c.cv) == 2 * TINY.folds
    assert set(c.final) == {"logreg", "pca_knn"}
    for result in c.final.values():
        assert result["proba"].shape == (300, 10) and len(result["pred"]) == 300
        assert result["latency_p50_ms"] <= result["latency_p95_ms"] and result["size_bytes"] > 1000
    # the learning curve ends with the final fit
    assert sorted(c.learning[c.learning.pipeline == "logreg"].n_train) == [100, 300, 600]
    assert len(c.robustness) == 2 * sum(len(levels) for levels, _ in CORRUPTIONS.values())
    assert c.user is not None and (c.user.n == 12).all()
    assert c.environment["data_sha256"]["test"] and c.environment["command"] == "test"


def test_report_html_parses_and_every_figure_it_references_is_there(report):
    _, folder, _ = report
    page = _Links()
    page.feed((folder / "index.html").read_text())
    page.close()
    assert len(page.images) >= 9
    for src in page.images:  # embedded: the page needs no other file
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    local = [href for href in page.links if not href.startswith(("#", "http"))]
    assert any(href.endswith(".svg") for href in local) and "results.csv" in local
    for href in local:
        assert (folder / href).stat().st_size > 0, href
    md = (folder / "report.md").read_text()
    for figure in (folder / "figures").glob("*.png"):
        assert f"figures/{figure.name}" in md or figure.stem in (folder / "index.html").read_text()
    assert (folder.parent / "latest").resolve() == folder.resolve()


def test_latest_stays_on_the_full_report_when_a_quick_one_follows(report, tmp_path):
    import dataclasses

    from workbench.compare import FULL

    c, _, _ = report
    out = tmp_path / "reports"
    first_quick = write_report(c, out)
    assert (out / "latest").resolve() == (out / "quick").resolve() == first_quick.resolve()
    assert not (out / "full").exists()
    full = write_report(dataclasses.replace(c, settings=dataclasses.replace(FULL, folds=3)), out)
    assert (out / "latest").resolve() == (out / "full").resolve() == full.resolve()
    second_quick = write_report(c, out)
    assert (out / "quick").resolve() == second_quick.resolve()
    assert (out / "latest").resolve() == full.resolve()  # what the README presents, not the newest quick run
    assert (out / "latest").readlink() == Path(full.name)  # relative: the folder can move


def test_report_numbers_match_results_csv(report):
    c, folder, _ = report
    results = pd.read_csv(folder / "results.csv")
    assert len(results) == 2 * TINY.folds and set(results.pipeline) == {"logreg", "pca_knn"}
    pd.testing.assert_frame_equal(results, c.cv, check_dtype=False)
    page = _Links()
    page.feed((folder / "index.html").read_text())
    header, *rows = page.tables["leaderboard"]
    cv_column, test_column = header.index("CV accuracy"), header.index("test accuracy")
    board = pd.read_csv(folder / "leaderboard.csv").set_index("pipeline")
    for row in rows:
        folds = results[results.pipeline == row[0]].accuracy
        assert row[cv_column] == f"{100 * folds.mean():.2f} ± {100 * folds.std():.2f}%"
        assert row[test_column] == f"{100 * board.loc[row[0], 'test_accuracy']:.2f}%"
        assert board.loc[row[0], "test_accuracy"] == np.mean(c.final[row[0]]["pred"] == c.y_test)
    assert [r[0] for r in rows] == list(board.index)  # best first, as in the CSV
    user = {r[0]: r[-1] for r in page.tables["user"][1:]}
    assert set(user) == {"logreg", "pca_knn"}


def test_summary_names_the_best_model_and_its_test(report):
    c, folder, _ = report
    best = leaderboard(c).pipeline.iloc[0]
    md = (folder / "report.md").read_text()
    summary = md.split("## Summary", 1)[1].split("## 1.", 1)[0]
    assert f"**{best}** is the most accurate" in summary and "McNemar" in summary and "t-test" in summary


def test_rerun_takes_every_result_from_the_cache(report):
    c, _, tmp = report
    again = compare(["logreg", "pca_knn"], TINY, cache_dir=tmp / "cache", log_path=tmp / "log.sqlite")
    assert again.environment["cached_tasks"] == again.environment["tasks"]
    # drawn again from the cache, the report still says what computing it took
    assert again.environment["computed_by"]["wall_seconds"] == c.environment["wall_seconds"]
    header = (write_report(again, tmp / "again") / "index.html").read_text()
    assert "from the cache of the run that computed it" in header
    pd.testing.assert_frame_equal(again.cv, c.cv)
    np.testing.assert_array_equal(again.final["pca_knn"]["proba"], c.final["pca_knn"]["proba"])
    # a changed setting recomputes only what depends on it
    more = compare(["logreg"], Settings(**{**TINY.__dict__, "folds": 3}), cache_dir=tmp / "cache")
    assert more.environment["cached_tasks"] == 1 + 2  # the final fit and the two learning-curve points


def test_changed_code_recomputes_every_result(report, monkeypatch):
    # joblib keys a task by its function and arguments: a pipeline's classes are hashed by
    # name, so a change to, say, the normaliser's code would be served from the old results.
    import workbench.compare as compare_module

    _, _, tmp = report
    old = list((tmp / "cache").glob("code-*"))
    monkeypatch.setattr(compare_module, "code_fingerprint", lambda pipes: "0" * 12)
    again = compare(["logreg"], TINY, cache_dir=tmp / "cache")
    assert again.environment["cached_tasks"] == 0
    assert [p.name for p in (tmp / "cache").glob("code-*")] == ["code-" + "0" * 12] and old


def test_code_fingerprint_follows_the_workbench_and_a_users_own_classes(tmp_path, monkeypatch):
    import importlib

    from sklearn.pipeline import Pipeline

    from workbench.compare import code_fingerprint

    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 2\n")
    user = tmp_path / "user"
    user.mkdir()
    (user / "my_step.py").write_text(
        "from sklearn.base import BaseEstimator, TransformerMixin\n"
        "class Double(TransformerMixin, BaseEstimator):\n"
        "    def fit(self, X, y=None):\n        return self\n"
        "    def transform(self, X):\n        return X * 2\n")
    monkeypatch.syspath_prepend(str(user))
    pipe = Pipeline([("double", importlib.import_module("my_step").Double())])
    first = code_fingerprint([pipe], root=package)
    assert code_fingerprint([pipe], root=package) == first and len(first) == 12
    (package / "sub" / "b.py").write_text("B = 3\n")
    second = code_fingerprint([pipe], root=package)
    assert second != first
    (user / "my_step.py").write_text((user / "my_step.py").read_text().replace("X * 2", "X * 3"))
    assert code_fingerprint([pipe], root=package) != second
    assert code_fingerprint([], root=package) != code_fingerprint([pipe], root=package)
    # how results are shown runs no task: the report's, the progress line's and the app's code
    # change nothing (the report is rendered again from the cache)
    third = code_fingerprint([pipe], root=package)
    (package / "app").mkdir()
    for name in ("report.py", "progress.py", "cli.py", "explain.py", "app/main.py"):
        (package / name).write_text("X = 1\n")
    assert code_fingerprint([pipe], root=package) == third


def test_a_saved_model_of_the_same_pipeline_and_data_is_reused(models_dir, tmp_path):
    pipe, meta = fit_pipeline("logreg", subset=TINY.train_subset)
    save_model(pipe, "logreg", metadata=meta)
    c = compare(["logreg"], TINY)
    assert c.final["logreg"]["reused_model"] and c.final["logreg"]["fit_seconds"] == meta["fit_seconds"]
    other = compare(["logreg"], Settings(**{**TINY.__dict__, "train_subset": 500}))
    assert not other.final["logreg"]["reused_model"]


def test_compare_command_writes_the_report_and_prints_the_leaderboard(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "logreg", "--quick", "--folds", "2", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "logreg" in out
    report = out.split("report: ", 1)[1].split(" (", 1)[0]
    assert (tmp_path / report).exists() and report.endswith("index.html")
    env = json.loads((tmp_path / "out" / "latest" / "environment.json").read_text())
    assert env["command"] == "workbench compare logreg --quick --folds 2 --out out"
    assert env["settings"]["folds"] == 2 and env["settings"]["cv_subset"] == 2000


@pytest.mark.parametrize("argv, message", [
    (["compare", "logreg", "nonesuch"], "unknown pipeline 'nonesuch'"),
    (["compare", "logreg", "logreg"], "named twice: logreg"),
    (["compare", "logreg", "--folds", "1"], "folds must be at least 2"),
])
def test_compare_command_names_bad_arguments(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()  # nothing written


def test_the_summary_says_which_model_to_use_and_what_the_lead_costs():
    from workbench.report import recommendation

    board = pd.DataFrame({"pipeline": ["big", "small"], "test_accuracy": [0.9974, 0.9968],
                          "fit_seconds": [6143.0, 1435.0], "size_mb": [12.7, 2.1], "latency_p50_ms": [1.31, 0.52]})
    pairs = pd.DataFrame({"a": ["big"], "b": ["small"], "test_difference": [0.0006], "mcnemar_p": [0.146]})
    said = recommendation(board, pairs)
    assert said.startswith("**Use small**: big's lead of 0.06 points") and "could be chance (McNemar p = 0.146)" in said
    assert "4.3x the fit time (6,143 against 1,435 s)" in said and "6.0x the size (12.70 against 2.10 MB)" in said
    assert "2.5x the latency" in said
    sure = recommendation(board, pairs.assign(mcnemar_p=0.01))  # a lead that is not chance: the best, at its cost
    assert sure.startswith("**Use big**: 0.06 points ahead of small") and "unlikely to be chance" in sure
    cheap = recommendation(board.assign(fit_seconds=1435.0, size_mb=2.1, latency_p50_ms=0.52), pairs)
    assert cheap.startswith("**Use big**") and " at " not in cheap  # no dearer: the best, even by chance


def test_every_figure_draws_a_pipeline_in_its_own_colour_and_marker(report):
    """The scatter, the CV scores, the learning curves, robustness and calibration: each pipeline
    has one colour and one marker, the same in every figure, and no two pipelines share both."""
    import matplotlib
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    from workbench import report as report_module

    matplotlib.use("Agg")
    c, _, _ = report
    board = report_module.leaderboard(c)
    order = list(board.pipeline)
    styles = report_module._styles(order)
    assert len({(str(s["color"]), s["marker"]) for s in styles.values()}) == len(order)
    assert len({s["marker"] for s in report_module._styles([f"p{i}" for i in range(12)]).values()}) == 12
    figures = [report_module._fig_tradeoff(board, styles), report_module._fig_learning(c, order, styles),
               report_module._fig_robustness(c, order, styles), report_module._fig_reliability(c, order, styles)]
    seen = {}
    for fig in figures:
        for ax in fig.axes:
            handles, labels = ax.get_legend_handles_labels()
            for handle, label in zip(handles, labels, strict=True):
                if label not in order:
                    continue
                if isinstance(handle, Line2D):
                    style = (matplotlib.colors.to_hex(handle.get_color()), handle.get_marker())
                elif isinstance(handle, PathCollection):
                    style = (matplotlib.colors.to_hex(handle.get_facecolor()[0]), None)
                else:
                    continue
                colour = seen.setdefault(label, style[0])
                assert colour == style[0], (label, colour, style)
                if style[1] is not None:
                    assert style[1] == styles[label]["marker"]
    assert set(seen) == set(order)
    # the scatter names its points without names overlapping
    ax = figures[0].axes[0]
    renderer = figures[0].canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert {t.get_text() for t in ax.texts} <= set(order)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_the_progress_estimate_weighs_tasks_by_what_they_took_before(report, tmp_path):
    """The cache folder remembers what each task took; the next run's progress line expects it."""
    import io
    import json

    from workbench import compare as compare_module
    from workbench.progress import Progress

    _, _, tmp = report
    cache = tmp_path / "cache"
    compare(["logreg"], TINY, cache_dir=cache)
    timings = json.loads((cache / compare_module.TIMINGS).read_text())
    assert {k.split()[0] for k in timings} == {"cv", "learning", "final"} and all(v > 0 for v in timings.values())
    known = compare_module._known_seconds(cache)
    key = next(k for k in timings if k.startswith("cv logreg"))
    assert compare_module._expected_seconds(known, "cv", "logreg", int(key.split()[2])) == (timings[key], True)
    # twice the training images: scaled from the nearest; an unknown pipeline: the kind's median;
    # a saved model scored as saved (size 0): from the tasks of size 0, not scaled to nothing
    assert compare_module._expected_seconds(known, "cv", "logreg", 2 * int(key.split()[2])) == (2 * timings[key], False)
    table = {"cv a 10": 1.0, "cv b 10": 3.0, "cv c 10": 5.0, "final a 0": 7.0, "final a 100": 50.0}
    assert compare_module._expected_seconds(table, "cv", "d", 10) == (3.0, False)
    assert compare_module._expected_seconds(table, "final", "b", 0) == (7.0, False)
    assert compare_module._expected_seconds(table, "final", "a", 200) == (100.0, False)
    # an expensive task left counts for what it costs, not as one task of many
    out = io.StringIO()
    with Progress(3, "compare", file=out, expected=[1.0, 1.0, 300.0], workers=1,
                  clock=iter([0.0, 1.0]).__next__) as bar:
        bar.update("logreg", expected=1.0, seconds=1.0)
    assert "about 5 min 02 s expected" in out.getvalue() and "about 5 min 01 s left" in out.getvalue()


def test_the_page_loads_nothing_from_elsewhere(report):
    """Scripts, styles and images are inside the page: it opens offline, from a mail or a zip."""
    import re

    _, folder, _ = report
    page = (folder / "index.html").read_text()
    assert not re.search(r"<(script|img|link|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//",
                         page, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?(https?:)?//|@import", page, re.IGNORECASE)
    assert "<script src" not in page.lower()


SHIM = """
// The few DOM calls the report's sort script makes, over the leaderboard's cells.
const data = JSON.parse(require("fs").readFileSync(0, "utf8"));
const body = {rows: data.body.map(cells => ({cells: cells.map(text => ({textContent: text}))})),
              appendChild(row) { this.rows.splice(this.rows.indexOf(row), 1); this.rows.push(row); }};
const table = {tBodies: [body]}, clicks = [];
const header = {ths: null, querySelectorAll() { return this.ths; }};
header.ths = data.header.map((_, i) => ({attrs: {}, getAttribute(k) { return this.attrs[k] ?? null; },
  setAttribute(k, v) { this.attrs[k] = v; }, removeAttribute(k) { delete this.attrs[k]; },
  closest(what) { return what === "table" ? table : header; },
  addEventListener(_, f) { clicks[i] = f; }}));
global.document = {querySelectorAll() { return header.ths; }};
eval(data.script);
const out = [];
for (const column of data.clicks) {
  clicks[column]();
  out.push({rows: body.rows.map(r => r.cells.map(c => c.textContent)), sort: header.ths[column].attrs["aria-sort"]});
}
console.log(JSON.stringify(out));
"""


def test_sorting_the_leaderboard_keeps_every_row_whole(report, tmp_path):
    """The leaderboard's inline script, run under Node over the page's own table: a click sorts
    by that column (numbers by value, "98.30 ± 0.38%" by 98.30), a second click reverses, and
    every row keeps its cells together."""
    import re
    import shutil
    import subprocess

    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("Node.js is not installed (bash .ci/setup installs it)")
    _, folder, _ = report
    html = (folder / "index.html").read_text()
    page = _Links()
    page.feed(html)
    header, *body = page.tables["leaderboard"]
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    accuracy, pipeline = header.index("test accuracy"), header.index("pipeline")
    data = {"header": header, "body": body, "script": script, "clicks": [accuracy, accuracy, pipeline]}
    result = subprocess.run([node, "-e", SHIM], input=json.dumps(data), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    up, down, by_name = json.loads(result.stdout)
    for state in (up, down, by_name):
        assert sorted(map(tuple, state["rows"])) == sorted(map(tuple, body))  # the same rows, whole
    values = [float(row[accuracy].rstrip("%")) for row in up["rows"]]
    assert values == sorted(values) and up["sort"] == "ascending"
    assert [row[accuracy] for row in down["rows"]] == [row[accuracy] for row in reversed(up["rows"])]
    assert down["sort"] == "descending"
    assert [row[pipeline] for row in by_name["rows"]] == sorted(row[pipeline] for row in body)

"""The comparison report: tables, figures and a summary in words from a
:class:`~workbench.compare.Comparison`, written as ``index.html`` (self-contained, figures
embedded), ``report.md``, CSV files and PNG/SVG figures in ``<out>/<timestamp>/``.

Links in ``<out>``: ``full`` points at the newest full comparison (the default settings),
``quick`` at the newest ``--quick`` one (or any smaller settings), and ``latest`` at the
report to open first: the newest full comparison if there is one, else the newest report.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import os
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.compare import FULL, Comparison
from workbench.corruptions import CORRUPTIONS, corrupt
from workbench.stats import corrected_resampled_ttest, expected_calibration_error, mcnemar

# ---------------------------------------------------------------- tables

def leaderboard(c: Comparison) -> pd.DataFrame:
    """One row per pipeline, best test accuracy first (numbers, not strings)."""
    cv = c.cv.groupby("pipeline")["accuracy"].agg(["mean", "std"])
    rows = []
    for name in c.names:
        f = c.final[name]
        rows.append({
            "pipeline": name,
            "test_accuracy": float(np.mean(f["pred"] == c.y_test)),
            "macro_f1": _f1(c.y_test, f["pred"]),
            "cv_accuracy_mean": cv.loc[name, "mean"],
            "cv_accuracy_std": cv.loc[name, "std"],
            "fit_seconds": f["fit_seconds"],
            "images_per_second": len(c.y_test) / f["predict_seconds"],
            "latency_p50_ms": f["latency_p50_ms"],
            "latency_p95_ms": f["latency_p95_ms"],
            "size_mb": f["size_bytes"] / 1e6,
            "ece": expected_calibration_error(c.y_test, f["proba"], f["classes"]),
            "refuses_non_digits": f.get("refuses_non_digits", np.nan),
            "refuses_digits": f.get("refuses_digits", np.nan),
        })
    return pd.DataFrame(rows).sort_values(["test_accuracy", "cv_accuracy_mean"], ascending=False, ignore_index=True)


def _f1(y, pred) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(y, pred, average="macro"))


def per_class(c: Comparison) -> pd.DataFrame:
    """Precision, recall, F1 and support per pipeline and digit."""
    from sklearn.metrics import precision_recall_fscore_support

    rows = []
    for name in c.names:
        labels = np.unique(c.y_test)
        p, r, f, n = precision_recall_fscore_support(c.y_test, c.final[name]["pred"], labels=labels, zero_division=0)
        rows += [{"pipeline": name, "digit": int(d), "precision": p[i], "recall": r[i], "f1": f[i],
                  "support": int(n[i])} for i, d in enumerate(labels)]
    return pd.DataFrame(rows)


def confused_pairs(c: Comparison, top: int = 5) -> pd.DataFrame:
    """The most frequent (true, predicted) errors of each pipeline."""
    rows = []
    for name in c.names:
        wrong = c.final[name]["pred"] != c.y_test
        errors = zip(c.y_test[wrong], c.final[name]["pred"][wrong], strict=True)
        for (t, p), k in pd.Series(list(errors)).value_counts().head(top).items():
            rows.append({"pipeline": name, "true": int(t), "predicted": int(p), "count": int(k)})
    return pd.DataFrame(rows, columns=["pipeline", "true", "predicted", "count"])


def pairwise(c: Comparison, order: list[str]) -> pd.DataFrame:
    """Every pair of pipelines (better one first): McNemar on the test predictions and the
    corrected resampled t-test on the CV folds."""
    folds = c.cv.pivot(index="fold", columns="pipeline", values="accuracy")
    n_train, n_test = int(c.cv["n_train"].iloc[0]), int(c.cv["n_test"].iloc[0])
    rows = []
    for a, b in itertools.combinations(order, 2):
        m = mcnemar(c.y_test, c.final[a]["pred"], c.final[b]["pred"])
        t = corrected_resampled_ttest(folds[a], folds[b], n_train, n_test)
        right_a, right_b = c.final[a]["pred"] == c.y_test, c.final[b]["pred"] == c.y_test
        rows.append({"a": a, "b": b, "test_difference": float(right_a.mean() - right_b.mean()),
                     "a_only_right": m["a_only"], "b_only_right": m["b_only"], "mcnemar_p": m["p_value"],
                     "cv_difference": t["mean_difference"], "ttest_t": t["t"], "ttest_p": t["p_value"]})
    return pd.DataFrame(rows, columns=["a", "b", "test_difference", "a_only_right", "b_only_right", "mcnemar_p",
                                       "cv_difference", "ttest_t", "ttest_p"])


# ---------------------------------------------------------------- summary in words

def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _p(p: float) -> str:
    if np.isnan(p):
        return "p undefined (no variance)"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _verdict(p: float) -> str:
    if np.isnan(p):
        return "cannot tell"
    return "unlikely to be chance" if p < 0.05 else "could be chance"


# What makes a model dearer to use than the next one: fit time, file size, single-image latency;
# "dearer" means by more than this factor.
DEARER = 1.2


def recommendation(board: pd.DataFrame, pairs: pd.DataFrame) -> str:
    """Which model to use, in one sentence (Markdown): the most accurate, unless its lead over
    the next could be chance (McNemar p >= 0.05) while it costs more to fit, store or run; then
    the next, with what the lead would cost."""
    best = board.iloc[0]
    if len(board) < 2:
        return f"**Use {best.pipeline}**: the only model compared."
    second = board.iloc[1]
    row = pairs[(pairs.a == best.pipeline) & (pairs.b == second.pipeline)].iloc[0]
    costs = [(what, a, b, unit, digits) for what, a, b, unit, digits in (
        ("fit time", best.fit_seconds, second.fit_seconds, "s", 0), ("size", best.size_mb, second.size_mb, "MB", 2),
        ("latency", best.latency_p50_ms, second.latency_p50_ms, "ms", 2)) if a > DEARER * b]
    said = ", ".join(f"{a / b:.1f}x the {what} ({a:,.{digits}f} against {b:,.{digits}f} {unit})"
                     for what, a, b, unit, digits in costs)
    lead = f"{100 * row.test_difference:.2f} points"
    if row.mcnemar_p >= 0.05 and costs:
        return (f"**Use {second.pipeline}**: {best.pipeline}'s lead of {lead} on the test images could be chance "
                f"(McNemar {_p(row.mcnemar_p)}) and costs {said}; take {best.pipeline} if those points matter more.")
    cost = f", at {said}" if costs else ""
    return (f"**Use {best.pipeline}**: {lead} ahead of {second.pipeline} on the test images "
            f"(McNemar {_p(row.mcnemar_p)}: {_verdict(row.mcnemar_p)}){cost}.")


def summary(c: Comparison, board: pd.DataFrame, pairs: pd.DataFrame) -> list[str]:
    """Short sentences (Markdown) saying which model to use, who is best on what, by how much,
    and how sure."""
    best = board.iloc[0]
    lines = [recommendation(board, pairs)]
    if len(board) > 1:
        second = board.iloc[1]
        row = pairs[(pairs.a == best.pipeline) & (pairs.b == second.pipeline)].iloc[0]
        lines.append(
            f"**{best.pipeline}** is the most accurate on the {len(c.y_test):,} test images: "
            f"{_pct(best.test_accuracy)}, {100 * row.test_difference:.2f} points ahead of {second.pipeline} "
            f"({_pct(second.test_accuracy)}). It gets {row.a_only_right} images right that {second.pipeline} gets "
            f"wrong, and {row.b_only_right} the other way round (McNemar {_p(row.mcnemar_p)}: "
            f"{_verdict(row.mcnemar_p)}).")
        lines.append(
            f"In {c.settings.folds}-fold cross-validation on {int(c.cv.n_train.iloc[0] + c.cv.n_test.iloc[0]):,} "
            f"training images, {best.pipeline} scores {_pct(best.cv_accuracy_mean)} ± {100 * best.cv_accuracy_std:.2f} "
            f"against {_pct(second.cv_accuracy_mean)} ± {100 * second.cv_accuracy_std:.2f} "
            f"(corrected resampled t-test {_p(row.ttest_p)}: {_verdict(row.ttest_p)}).")
    else:
        lines.append(f"**{best.pipeline}**: {_pct(best.test_accuracy)} on the {len(c.y_test):,} test images.")
    fast = board.sort_values("latency_p50_ms").iloc[0]
    lines.append(f"Fastest on a single image: **{fast.pipeline}** ({fast.latency_p50_ms:.2f} ms median, "
                 f"{_pct(fast.test_accuracy)} accurate); {best.pipeline} takes {best.latency_p50_ms:.2f} ms. "
                 f"Largest throughput on a batch: **{board.sort_values('images_per_second').iloc[-1].pipeline}**.")
    calibrated = board.sort_values("ece").iloc[0]
    others = "" if calibrated.pipeline == best.pipeline else f"; {best.pipeline}: {_pct(best.ece)}"
    lines.append(f"Best calibrated confidence: **{calibrated.pipeline}** (expected calibration error "
                 f"{_pct(calibrated.ece)}{others}; worst: {board.sort_values('ece').iloc[-1].pipeline}, "
                 f"{_pct(board.ece.max())}).")
    mean_rob = c.robustness.groupby(["kind", "pipeline"])["accuracy"].mean().unstack()
    winners = mean_rob.idxmax(axis=1)
    by_winner = {w: [k for k in CORRUPTIONS if winners[k] == w] for w in dict.fromkeys(winners[list(CORRUPTIONS)])}
    lines.append("Most robust (mean accuracy over the corruption levels): " + "; ".join(
        f"**{w}** to {', '.join(kinds)}" for w, kinds in by_winner.items()) + ".")
    small = c.learning[c.learning.n_train == c.learning.n_train.min()].sort_values("accuracy").iloc[-1]
    lines.append(f"With only {int(small.n_train):,} training images the best is **{small.pipeline}** "
                 f"({_pct(small.accuracy)}).")
    if c.user is not None:
        u = c.user.sort_values("accuracy").iloc[-1]
        lines.append(f"On your own handwriting ({int(u.n)} corrected predictions from the log) the best is "
                     f"**{u.pipeline}** ({_pct(u.accuracy)}).")
    return lines


# ---------------------------------------------------------------- figures

MARKERS = "osD^vP*Xhp<>"


def _styles(order) -> dict[str, dict]:
    """Each pipeline's colour and marker, the same in every figure and none shared: tab20's
    strong shades first, then its light ones (twelve pipelines on tab10 gave two pairs the same
    colour), and a marker of its own, so that a reader matches points without telling shades apart."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return {name: {"color": cmap((2 * i) % 20 + (i // 10) % 2), "marker": MARKERS[i % len(MARKERS)]}
            for i, name in enumerate(order)}


def _place_labels(ax, points, names, styles) -> None:
    """Name each point beside it where the name overlaps no other name or point: the first
    free place of eight around it, farther out if none is; a name that finds no place is left
    to the legend."""
    import itertools

    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    taken = [ax.transData.transform(p) for p in points]
    boxes = []  # display-space boxes of the names placed so far
    offsets = [(7, 3), (7, -11), (-7, 3), (-7, -11), (0, 9), (0, -15), (14, -4), (-14, -4)]
    for (x, y), name in sorted(zip(points, names, strict=True), key=lambda item: -item[0][1]):
        for scale, (dx, dy) in itertools.product((1, 2, 3), offsets):
            text = ax.annotate(name, (x, y), xytext=(scale * dx, scale * dy), textcoords="offset points",
                               fontsize=8, ha="left" if dx > 0 else "right" if dx < 0 else "center",
                               color="black", arrowprops=None if scale == 1 else
                               {"arrowstyle": "-", "color": styles[name]["color"], "lw": 0.6})
            box = text.get_window_extent(renderer).expanded(1.05, 1.15)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(b) for b in boxes) and not any(box.contains(*p) for p in taken):
                boxes.append(box)
                break
            text.remove()


def _fig_tradeoff(board, styles):
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(9, 4.8))
    error = 100 * (1 - board.test_accuracy.to_numpy())
    for row, err in zip(board.itertuples(), error, strict=True):
        ax.scatter(row.latency_p50_ms, err, s=40 + 30 * np.sqrt(row.size_mb), **styles[row.pipeline],
                   edgecolor="black", linewidth=0.5, zorder=3, label=row.pipeline)
    # Error on a log scale: MNIST's models differ by tenths of a point at the top and by points
    # at the bottom; accuracy on a linear axis spent the height on the weakest model.
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_yaxis()
    ax.margins(x=0.15, y=0.12)
    for axis in (ax.xaxis, ax.yaxis):  # 0.2, 0.5, 1, 2, 5, 10: every tick named
        axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("single-image latency, median (ms, log scale)")
    ax.set_ylabel("test error (%, log scale; better is up)")
    ax.set_title("Accuracy against speed (marker area grows with model size)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, markerscale=0.6)
    fig.tight_layout()
    _place_labels(ax, list(zip(board.latency_p50_ms, error, strict=True)), list(board.pipeline), styles)
    return fig


def _fig_cv(c, order, styles):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.45 * len(order) + 1.2))
    for i, name in enumerate(reversed(order)):
        scores = 100 * c.cv.loc[c.cv.pipeline == name, "accuracy"].to_numpy()
        ax.boxplot(scores, positions=[i], orientation="horizontal", widths=0.5, showfliers=False)
        ax.scatter(scores, np.full(len(scores), i), **styles[name], zorder=3, s=18)
    ax.set_yticks(range(len(order)), list(reversed(order)))
    ax.set_xlabel("accuracy on the held-out fold (%)")
    ax.set_title(f"Cross-validation scores ({c.settings.folds} folds)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _grid(n, cols, size):
    import matplotlib.pyplot as plt

    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _fig_confusion(c, order):
    from matplotlib.colors import LogNorm
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, axes = _grid(len(order), min(4, len(order)), 3.3)
    for ax, name in zip(axes, order, strict=False):
        ConfusionMatrixDisplay.from_predictions(
            c.y_test, c.final[name]["pred"], ax=ax, colorbar=False, cmap="Blues",
            im_kw={"norm": LogNorm(vmin=1)}, text_kw={"fontsize": 7})
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.xaxis.label.set_size(7)
        ax.yaxis.label.set_size(7)
    fig.suptitle("Confusion matrices on the test split (colour on a log scale)")
    fig.tight_layout()
    return fig


def _fig_per_class(per_class_table, order):
    import matplotlib.pyplot as plt

    f1 = per_class_table.pivot(index="pipeline", columns="digit", values="f1").loc[order]
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(order) + 1.3))
    values = 100 * f1.to_numpy()
    im = ax.imshow(values, cmap="viridis", aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7, color="white" if v < values.mean() else "black")
    ax.set_xticks(range(f1.shape[1]), f1.columns)
    ax.set_yticks(range(len(order)), order)
    ax.set_xlabel("digit")
    ax.set_title("F1 per digit on the test split (%)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def _fig_gallery(c, order, per_model: int = 12):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(order), per_model, figsize=(per_model * 0.75, len(order) * 0.95), squeeze=False)
    for r, name in enumerate(order):
        wrong = np.flatnonzero(c.final[name]["pred"] != c.y_test)[:per_model]
        for k, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if k < len(wrong):
                i = wrong[k]
                ax.imshow(c.X_test[i], cmap="gray_r")
                ax.set_title(f"{c.y_test[i]}→{c.final[name]['pred'][i]}", fontsize=7, pad=2)
            else:
                ax.axis("off")
        axes[r][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
        axes[r][0].axis("on")
        axes[r][0].set_frame_on(len(wrong) > 0)
    fig.suptitle("First misclassified test digits of each model (true→predicted)", fontsize=9)
    fig.tight_layout()
    return fig


def _fig_learning(c, order, styles):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in order:
        rows = c.learning[c.learning.pipeline == name]
        left.plot(rows.n_train, 100 * rows.accuracy, "-", **styles[name], label=name, ms=4)
        right.plot(rows.n_train, rows.fit_time, "-", **styles[name], label=name, ms=4)
    sizes = sorted(c.learning.n_train.unique())
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes], fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("training images (log scale)")
        ax.grid(alpha=0.3)
    right.set_yscale("log")
    left.set_ylabel("test accuracy (%)")
    right.set_ylabel("fit time (s, log scale)")
    left.set_title("Learning curves")
    right.set_title("Fit time")
    right.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def _fig_robustness(c, order, styles):
    fig, axes = _grid(len(CORRUPTIONS), 3, 3.6)
    for ax, (kind, (levels, unit)) in zip(axes, CORRUPTIONS.items(), strict=False):
        for name in order:
            rows = c.robustness[(c.robustness.pipeline == name) & (c.robustness.kind == kind)]
            ax.plot(rows.level, 100 * rows.accuracy, "-", **styles[name], label=name, ms=3)
        ax.set_title(kind, fontsize=10)
        ax.set_xlabel(unit, fontsize=8)
        ax.set_xticks(levels)
        if levels[-1] < levels[0]:  # shrinking: the strongest level is the smallest factor
            ax.invert_xaxis()
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy (%)")
    axes[0].legend(fontsize=6)
    fig.suptitle(f"Accuracy under corruption ({c.settings.robustness_subset:,} test digits)")
    fig.tight_layout()
    return fig


def _fig_corruption_examples(c):
    import matplotlib.pyplot as plt

    digit = c.X_test[:1]
    n_levels = max(len(levels) for levels, _ in CORRUPTIONS.values())
    fig, axes = plt.subplots(len(CORRUPTIONS), n_levels, figsize=(n_levels * 0.9, len(CORRUPTIONS) * 1.0))
    for r, (kind, (levels, _)) in enumerate(CORRUPTIONS.items()):
        for k, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if k < len(levels):
                ax.imshow(corrupt(digit, kind, levels[k], c.settings.random_state)[0], cmap="gray_r", vmin=0, vmax=255)
                ax.set_title(f"{levels[k]:g}", fontsize=7, pad=2)
        axes[r][0].set_ylabel(kind, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle("The corruption levels, on one test digit", fontsize=9)
    fig.tight_layout()
    return fig


def _fig_reliability(c, order, styles, n_bins: int = 10):
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    edges = np.linspace(0, 1, n_bins + 1)
    for name in order:
        f = c.final[name]
        confidence = f["proba"].max(axis=1)
        correct = f["pred"] == c.y_test
        bins = np.clip(np.digitize(confidence, edges) - 1, 0, n_bins - 1)
        xs, ys = [], []
        for b in range(n_bins):
            if (in_bin := bins == b).sum() >= 5:
                xs.append(confidence[in_bin].mean())
                ys.append(correct[in_bin].mean())
        left.plot(xs, ys, "-", **styles[name], label=name, ms=3)
        right.hist(confidence, bins=edges, histtype="step", color=styles[name]["color"], label=name)
    left.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfect calibration")
    left.set_xlabel("confidence (top class probability)")
    left.set_ylabel("accuracy")
    left.set_title("Reliability diagram (bins of >= 5 images)")
    left.legend(fontsize=6)
    right.set_yscale("log")
    right.set_xlabel("confidence")
    right.set_ylabel("test images (log scale)")
    right.set_title("How confident the models are")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- writing

def _save(fig, folder: Path, name: str) -> str:
    """Write ``name.png`` and ``name.svg``; return the PNG as base64 for embedding."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")  # long pipeline names are not clipped
    (folder / f"{name}.png").write_bytes(buffer.getvalue())
    fig.savefig(folder / f"{name}.svg", bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def format_leaderboard(board: pd.DataFrame) -> pd.DataFrame:
    """The :func:`leaderboard` as people read it (strings)."""
    return pd.DataFrame({
        "pipeline": board.pipeline,
        "test accuracy": board.test_accuracy.map(_pct),
        "macro F1": board.macro_f1.map("{:.4f}".format),
        "CV accuracy": [f"{100 * m:.2f} ± {100 * s:.2f}%"
                        for m, s in zip(board.cv_accuracy_mean, board.cv_accuracy_std, strict=True)],
        "fit (s)": board.fit_seconds.map(lambda s: f"{s:,.1f}"),
        "images/s (batch)": board.images_per_second.map(lambda s: f"{s:,.0f}"),
        "latency p50 / p95 (ms)": [f"{a:.2f} / {b:.2f}"
                                   for a, b in zip(board.latency_p50_ms, board.latency_p95_ms, strict=True)],
        "size (MB)": board.size_mb.map(lambda s: f"{s:.2f}"),
        "ECE": board.ece.map(_pct),
        "refuses non-digits / digits": [f"{_pct(a)} / {_pct(b)}" for a, b in
                                        zip(board.refuses_non_digits, board.refuses_digits, strict=True)],
    })


def _fmt_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    def p_value(p):
        return "n/a" if np.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")

    return pd.DataFrame({
        "A vs B": pairs.a + " vs " + pairs.b,
        "test: A - B (points)": (100 * pairs.test_difference).map("{:+.2f}".format),
        "only A right / only B right": pairs.a_only_right.astype(str) + " / " + pairs.b_only_right.astype(str),
        "McNemar p": pairs.mcnemar_p.map(p_value),
        "CV: A - B (points)": (100 * pairs.cv_difference).map("{:+.2f}".format),
        "corrected t-test p": pairs.ttest_p.map(p_value),
    })


def report_kind(settings) -> str:
    """``"full"`` for the full comparison's data sizes (any fold count), else ``"quick"``."""
    sizes = ("cv_subset", "train_subset", "test_subset", "robustness_subset")
    return "full" if all(getattr(settings, k) == getattr(FULL, k) for k in sizes) else "quick"


def write_report(c: Comparison, out: str | Path = "reports") -> Path:
    """Write the report of ``c`` into a new ``<out>/<timestamp>/``, point ``<out>/full`` or
    ``<out>/quick`` (its kind: :func:`report_kind`) at it, and ``<out>/latest`` at the newest
    full report if there is one, else at it.

    Returns
    -------
    Path
        The new report folder (holding ``index.html``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import jinja2

    out = Path(out)
    folder = _new_folder(out)
    figures_dir = folder / "figures"
    figures_dir.mkdir()

    board = leaderboard(c)
    order = list(board.pipeline)
    styles = _styles(order)
    classes = per_class(c)
    pairs = pairwise(c, order)
    confused = confused_pairs(c)
    words = summary(c, board, pairs)

    c.cv.to_csv(folder / "results.csv", index=False)
    board.to_csv(folder / "leaderboard.csv", index=False)
    classes.to_csv(folder / "per_class.csv", index=False)
    pairs.to_csv(folder / "pairwise.csv", index=False)
    c.learning.to_csv(folder / "learning_curve.csv", index=False)
    c.robustness.to_csv(folder / "robustness.csv", index=False)
    if c.user is not None:
        c.user.to_csv(folder / "user_handwriting.csv", index=False)
    (folder / "environment.json").write_text(json.dumps(c.environment, indent=2, default=str) + "\n")

    makers = {
        "tradeoff": ("Accuracy against speed", lambda: _fig_tradeoff(board, styles)),
        "cv_scores": ("Cross-validation scores", lambda: _fig_cv(c, order, styles)),
        "per_class_f1": ("F1 per digit", lambda: _fig_per_class(classes, order)),
        "confusion_matrices": ("Confusion matrices", lambda: _fig_confusion(c, order)),
        "misclassified": ("Misclassified test digits", lambda: _fig_gallery(c, order)),
        "learning_curves": ("Learning curves", lambda: _fig_learning(c, order, styles)),
        "robustness": ("Robustness to corruptions", lambda: _fig_robustness(c, order, styles)),
        "corruption_examples": ("The corruptions", lambda: _fig_corruption_examples(c)),
        "reliability": ("Calibration", lambda: _fig_reliability(c, order, styles)),
    }
    figures = {key: {"title": title, "png": _save(make(), figures_dir, key)} for key, (title, make) in makers.items()}

    fmt_board, fmt_pairs = format_leaderboard(board), _fmt_pairs(pairs)
    confused_text = confused.groupby("pipeline", sort=False).apply(
        lambda g: ", ".join(f"{t}→{p} ({n})" for t, p, n in zip(g.true, g.predicted, g["count"], strict=False)),
        include_groups=False).reindex(order).fillna("none").rename("most confused (true→predicted, count)")
    per_class_wide = classes.pivot(index="digit", columns="pipeline", values=["precision", "recall", "f1"])
    per_class_wide = per_class_wide.reorder_levels([1, 0], axis=1)[order].round(4)
    mean_rob = (100 * c.robustness.groupby(["pipeline", "kind"])["accuracy"].mean()).unstack()[list(CORRUPTIONS)]
    mean_rob = mean_rob.loc[order].round(2)
    user = None if c.user is None else c.user.set_index("pipeline").loc[order].assign(
        accuracy=lambda d: d.accuracy.map(_pct)).reset_index()
    env = c.environment
    context = {
        "title": f"Digit workbench comparison, {env['started'][:10]}",
        "c": c, "env": env, "summary": words, "summary_html": [_bold(line) for line in words],
        "figures": figures, "order": order,
        "n_test": len(c.y_test), "n_cv": int(c.cv.n_train.iloc[0] + c.cv.n_test.iloc[0]),
        "n_train": int(c.learning.n_train.max()), "n_pairs": len(fmt_pairs),
        "reused": [name for name in order if c.final[name].get("reused_model")],
        "took": _took(env["wall_seconds"]),
        "computed": env.get("computed_by") and {**env["computed_by"],
                                                "took": _took(env["computed_by"]["wall_seconds"])},
        "tables": {
            "leaderboard": fmt_board.to_html(index=False, table_id="leaderboard", border=0),
            "pairs": fmt_pairs.to_html(index=False, table_id="pairwise", border=0),
            "confused": confused_text.reset_index().to_html(index=False, border=0, table_id="confused"),
            "per_class": per_class_wide.to_html(border=0, table_id="per-class"),
            "robustness": mean_rob.to_html(border=0, table_id="robustness"),
            "user": None if user is None else user.to_html(index=False, border=0, table_id="user"),
        },
        "markdown": {
            "leaderboard": fmt_board.to_markdown(index=False),
            "pairs": fmt_pairs.to_markdown(index=False),
            "confused": confused_text.to_frame().to_markdown(),
            "robustness": mean_rob.to_markdown(),
            "user": None if user is None else user.to_markdown(index=False),
        },
        "versions": env["versions"],
    }
    templates = jinja2.Environment(loader=jinja2.PackageLoader("workbench", "templates"),
                                   autoescape=jinja2.select_autoescape(["html"]), keep_trailing_newline=True)
    (folder / "index.html").write_text(templates.get_template("report.html").render(**context))
    (folder / "report.md").write_text(templates.get_template("report.md").render(**context))
    _point(out, report_kind(c.settings), folder)
    _point(out, "latest", (out / "full").resolve() if (out / "full").is_dir() else folder)
    return folder


def _took(seconds: float) -> str:
    """A run's wall time as a person reads it: "495 s", "52 min", "2 h 44 min"."""
    minutes = round(seconds / 60)
    if seconds < 600:
        return f"{seconds:,.0f} s"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def _bold(line: str):
    """A summary line as HTML: escaped, with ``**name**`` in bold."""
    import re

    from markupsafe import Markup, escape

    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", str(escape(line))))


def _new_folder(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    for k in itertools.count():
        folder = out / (stamp if k == 0 else f"{stamp}-{k}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


def _point(out: Path, link: str, folder: Path) -> None:
    """Atomically make ``out/link`` a relative symlink to ``folder`` (a folder in ``out``)."""
    tmp = out / f".{link}-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(folder.name, target_is_directory=True)
    os.replace(tmp, out / link)

"""Fig. 4 (notebook 02): the classifiers' accuracy, zero-shot and fine-tuned, and the
fine-tuning curves.

:func:`run` fine-tunes and evaluates (or reads back) every model and shows the provenance box;
:func:`show_training_curves`, :func:`show_accuracy` and :func:`show_balanced_accuracy_auc` draw
the figures (:func:`accuracy_bars` and :func:`training_curves` are the drawings);
:func:`classification_table` and :func:`accuracy_drop_table` are the tables.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from .. import paper
from .notebook import Stopwatch, markdown, show_figure
from .provenance import provenance
from .steps import ensure_finetuned, training_history

CURVE_METRICS = ("train_loss", "val_loss", "val_balanced_acc", "val_auc")
TABLE_COLUMNS = ("model", "setting", "n", "accuracy", "balanced_accuracy", "auc", "best_epoch", "tn", "fp", "fn", "tp")
#: paper model label -> the text value of its accuracy drop
DROP_KEYS = {"MobileNet_v2": "fig4.mobilenet_v2.accuracy_drop", "Swin": "fig4.swin.accuracy_drop"}


def run(config) -> pd.DataFrame:
    """The classification table of ``config`` (:func:`~.steps.ensure_finetuned`), after showing
    the provenance box; says so when the run has no fine-tuned setting."""
    with Stopwatch() as sw:
        clf = ensure_finetuned(config)
    provenance(config, n_images=int(clf["n"].max()) if len(clf) else 0, wall_time_s=sw.seconds)
    if clf.empty:
        markdown(f"*No classification results here: the run has the settings {config.settings} "
                 "(fine-tuning and its evaluation run with the `fine-tuned` setting).*")
    return clf


def accuracy_bars(df: pd.DataFrame, metric: str = "accuracy", hue: str = "setting",
                  paper: Mapping[str, float] | None = None, ylabel: str | None = None) -> Figure:
    """Fig. 4: grouped bars of ``metric`` per ``model`` and ``hue`` (e.g. zero-shot vs
    fine-tuned). ``paper`` draws horizontal reference lines (label -> value)."""
    for col in ("model", hue, metric):
        if col not in df.columns:
            raise KeyError(f"accuracy_bars: column {col!r} missing (have {list(df.columns)})")
    pivot = df.pivot_table(index="model", columns=hue, values=metric, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(pivot) + 2), 3.6))
    pivot.plot.bar(ax=ax, rot=20, width=0.75)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.2f", fontsize=8)
    if paper:
        for i, (label, value) in enumerate(paper.items()):
            ax.axhline(value, linestyle="--", color=f"C{i + 3}", linewidth=1.2, label=label)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel or metric)
    ax.set_xlabel("")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def training_curves(history: pd.DataFrame, metrics: Sequence[str] = ("train_loss", "val_loss"),
                    by: str = "model", epoch: str = "epoch") -> Figure:
    """Fine-tuning curves: one panel per metric, one line per ``by`` value."""
    have = [m for m in metrics if m in history.columns]
    if not have:
        raise KeyError(f"training_curves: none of {list(metrics)} in columns {list(history.columns)}")
    fig, axes = plt.subplots(1, len(have), figsize=(4.2 * len(have), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], have):
        for key, part in history.groupby(by, sort=True):
            part = part.sort_values(epoch)
            ax.plot(part[epoch], part[metric], marker="o", markersize=3, label=str(key))
        ax.set_xlabel(epoch)
        ax.set_title(metric)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def show_training_curves(config) -> None:
    """The fine-tuning curves of every model (losses, validation balanced accuracy and AUC)."""
    hist = training_history(config)
    if hist.empty:
        markdown("*No fine-tuning history found.*")
    else:
        show_figure(training_curves(hist, metrics=[m for m in CURVE_METRICS if m in hist.columns]))


def show_accuracy(clf: pd.DataFrame) -> None:
    """Test accuracy per model and setting, with the paper's "every fine-tuned model > 80 %"."""
    if len(clf):
        show_figure(accuracy_bars(clf, metric="accuracy",
                                  paper={"paper: fine-tuned > 0.80": paper.get("fig4.fine_tuned.min_accuracy").value}))


def show_balanced_accuracy_auc(clf: pd.DataFrame) -> None:
    """Balanced accuracy and ROC-AUC per model and setting (two panels)."""
    if not len(clf):
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, metric in zip(axes, ("balanced_accuracy", "auc")):
        clf.pivot_table(index="model", columns="setting", values=metric).plot.bar(ax=ax, rot=20)
        ax.set_title(metric.replace("_", " "))
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("")
        ax.legend(fontsize=7)
    fig.tight_layout()
    show_figure(fig)


def classification_table(clf: pd.DataFrame) -> pd.DataFrame:
    """The classification metrics and confusion counts that the table shows."""
    return clf[[c for c in TABLE_COLUMNS if c in clf.columns]]


def accuracy_drop_table(clf: pd.DataFrame) -> pd.DataFrame:
    """Fine-tuned minus zero-shot accuracy per model, in points and relative, beside the paper."""
    rows = []
    for model, grp in clf.groupby("model", sort=True):
        ft = grp[grp["setting"] == "fine-tuned"]["accuracy"]
        zs = grp[grp["setting"].str.startswith("zero-shot")]["accuracy"]
        if ft.empty or zs.empty:
            continue
        ft_v, zs_v = float(ft.iloc[0]), float(zs.iloc[0])
        label = paper.paper_model_label(model)
        key = DROP_KEYS.get(label or "")
        rows.append({"model": model, "paper model": label, "fine-tuned acc.": ft_v, "zero-shot acc.": zs_v,
                     "drop (points)": ft_v - zs_v, "drop (relative)": (ft_v - zs_v) / ft_v if ft_v else float("nan"),
                     "paper drop": paper.get(key).value if key else float("nan"),
                     "source": paper.get(key).source if key else ""})
    return pd.DataFrame(rows)


__all__ = ["run", "accuracy_bars", "training_curves", "show_training_curves", "show_accuracy",
           "show_balanced_accuracy_auc", "classification_table", "accuracy_drop_table"]

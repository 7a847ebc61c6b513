"""How a notebook of the book opens and shows things.

Every notebook starts with ``cfg = notebook_config(globals())``: the papermill parameters of its
``parameters`` cell (:data:`NOTEBOOK_PARAMETERS`, all ``None`` = the profile's value, which
``book/build.py`` writes into that cell) become an
:class:`~cam2seg_utils.experiments.config.ExperimentConfig`, or, with ``published`` set, the
config of that published snapshot. Pages that read the grid then call :func:`grid_page`.

Display helpers: :func:`show` (a table without index, fixed precision), :func:`show_figure`,
:func:`markdown`, :func:`unavailable` (the sentence a page shows instead of a figure that cannot
be drawn in this build) and :class:`Stopwatch` (the wall time of the provenance box).
"""
from __future__ import annotations

import re
import time
from typing import Any, Mapping

import pandas as pd

from ..experiments import summary
from ..viz import display_markdown as markdown
from .provenance import published_config, provenance
from .steps import ensure_grid
from .tables import n_test_images, split_label

#: notebook parameter -> ExperimentConfig field (``None`` = take the profile's value)
PARAMETER_FIELDS: dict[str, str] = {
    "dataset": "dataset", "data_root": "data_root", "device": "device", "models": "models",
    "cams": "cams", "n_images": "max_images", "percentile": "percentile", "num_points": "num_points",
    "amplification": "amplification", "epochs": "epochs", "patience": "patience", "seed": "seed",
    "output_dir": "output_dir",
}
#: The parameters cell of every notebook, in order: ``profile`` (default ``"embedded"``), then
#: :data:`PARAMETER_FIELDS` (default ``None``); pages that can render a published snapshot add
#: ``published`` (default ``None``: run; else a snapshot folder such as ``results/published/local-isic``).
NOTEBOOK_PARAMETERS: tuple[str, ...] = ("profile", *PARAMETER_FIELDS)
DEFAULT_PROFILE = "embedded"


def config_from_parameters(profile: str, **params: Any):
    """The profile's config with every non-``None`` notebook parameter applied.

    ``n_images`` sets ``max_images``; scalar ``percentile`` / ``num_points`` / ``amplification``
    become one-element lists. Unknown parameters raise ``KeyError`` listing the known ones."""
    from ..profiles import get_profile

    unknown = sorted(set(params) - set(PARAMETER_FIELDS))
    if unknown:
        raise KeyError(f"unknown notebook parameter(s) {unknown}; known: {sorted(PARAMETER_FIELDS)}")
    overrides = {PARAMETER_FIELDS[k]: v for k, v in params.items() if v is not None}
    for key in ("percentile", "num_points", "amplification", "models", "cams"):
        if key in overrides and not isinstance(overrides[key], (list, tuple)):
            overrides[key] = [overrides[key]]
    cfg = get_profile(profile, **overrides)
    base = get_profile(profile)
    if "output_dir" not in overrides and cfg.fingerprint() != base.fingerprint():
        # the grid refuses to mix configurations in one folder: overridden runs get their own,
        # beside the profile's (so they share its heatmap cache), named by the config fingerprint
        cfg = cfg.replace(output_dir=f"{base.output_dir}-{cfg.fingerprint()[:8]}")
    return cfg


def notebook_config(namespace: Mapping[str, Any]):
    """The config of a notebook's ``parameters`` cell (pass ``globals()``), after setting the
    book's display defaults (figure dpi, table precision). Every notebook starts with this.

    With ``published`` set (a snapshot folder), the snapshot's own config (see
    :func:`~.provenance.published_config`); only ``device`` may be set beside it. Without
    ``profile`` (the notebook source run as it is), :data:`DEFAULT_PROFILE`."""
    import warnings

    import matplotlib.pyplot as plt

    # tqdm.auto warns on a page's stderr that the kernel has no ipywidgets; progress is off on pages
    warnings.filterwarnings("ignore", message="IProgress not found")
    plt.rcParams["figure.dpi"] = 110
    pd.set_option("display.precision", 3)
    params = {k: namespace[k] for k in PARAMETER_FIELDS if k in namespace}
    profile = namespace.get("profile", DEFAULT_PROFILE)   # a notebook source run as it is has no parameters yet
    if namespace.get("published"):
        clash = sorted(k for k, v in params.items() if v is not None and k != "device")
        if clash:
            raise ValueError(f"a page rendering the published snapshot {namespace['published']} takes no "
                             f"experiment parameters, got {clash}: drop them, or unset `published` to re-run")
        cfg = published_config(namespace["published"], device=params.get("device"))
        if cfg.name != profile:
            raise ValueError(f"snapshot {namespace['published']} is of profile {cfg.name!r}, not {profile!r}")
        return cfg
    return config_from_parameters(profile, **params)


class Stopwatch:
    """``with Stopwatch() as sw: ...``; ``sw.seconds`` afterwards."""

    def __enter__(self) -> "Stopwatch":
        self._t0 = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def grid_page(config) -> pd.DataFrame:
    """The grid table of ``config`` (computed or resumed), after showing the provenance box with
    the wall time it took: the opening of every page that reads the grid alone."""
    with Stopwatch() as sw:
        grid = ensure_grid(config)
    provenance(config, n_images=n_test_images(grid), wall_time_s=sw.seconds, split=split_label(grid))
    return grid


def show_figure(fig) -> None:
    """Display a matplotlib figure once and close it (whatever the matplotlib backend, so the
    executed notebook always holds the PNG, and the inline backend does not show it twice)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


def unavailable(what: str, why: object) -> None:
    """Say, in the page, that ``what`` (e.g. "Fig. 2") is not drawn in this build and why."""
    markdown(f"*{what} is not drawn in this build: {why}.*")


P_COLUMN = re.compile(r"(^p$|^p_| p$|^p-value)")     # a table's p-value columns, by name
COUNT_COLUMN = re.compile(r"(^n$|^n[ _]|epoch|passes|count|^tn$|^fp$|^fn$|^tp$)")


def _n_column(df: pd.DataFrame) -> str | None:
    """The column holding each row's number of images (pairs), when the table has one."""
    return next((c for c in ("n pairs", "n_pairs", "n") if c in df.columns), None)


def integer_columns(df: pd.DataFrame) -> list[str]:
    """Float columns that hold counts (whole numbers; a count's name, or a value of 2 or more,
    which no metric in [0, 1] has): shown without decimals, never as ``8.000``."""
    out = []
    for c in df.columns:
        col = df[c]
        if not pd.api.types.is_float_dtype(col):
            continue
        vals = col.dropna()
        if len(vals) and (vals == vals.round()).all() and (
                (isinstance(c, str) and COUNT_COLUMN.search(c)) or vals.abs().max() >= 2):
            out.append(c)
    return out


def show(df: pd.DataFrame, precision: int = 3):
    """A frame for display: no index column, floats to ``precision`` digits, counts as whole
    numbers, NaN as "–", p-values in one format (:func:`~cam2seg_utils.viz.format_p`: ``0.012``,
    ``< 0.001``, "n too small" below 5 pairs), long selection labels shortened."""
    from ..viz import format_p

    df = df.copy()
    if "selection" in df.columns:
        df["selection"] = df["selection"].replace({summary.ORACLE: "oracle (GT used; RandomCAM among the candidates)",
                                                   summary.PREDICTED_IOU: "predicted IoU (no GT; RandomCAM among "
                                                                          "the candidates)"})
    ncol = _n_column(df)
    for c in [c for c in df.columns if isinstance(c, str) and P_COLUMN.search(c)]:
        df[c] = [format_p(v, r[ncol] if ncol else None) for v, (_, r) in zip(df[c], df.iterrows())]
    styler = df.style.hide(axis="index").format(precision=precision, na_rep="–", escape="html")
    ints = integer_columns(df)
    if ints:
        styler = styler.format("{:.0f}", subset=ints, na_rep="–")
    return styler.set_table_attributes('class="dataframe"')


def show_table(df: pd.DataFrame, empty: str, precision: int = 3) -> None:
    """Display :func:`show` of ``df``, or the sentence ``empty`` when it has no rows."""
    from IPython.display import display

    if df is None or df.empty:
        markdown(f"*{empty}*")
    else:
        display(show(df, precision))


__all__ = ["PARAMETER_FIELDS", "NOTEBOOK_PARAMETERS", "DEFAULT_PROFILE", "config_from_parameters",
           "notebook_config", "Stopwatch", "grid_page", "show_figure", "unavailable", "show", "show_table",
           "integer_columns",
           "markdown"]

"""The book chapter "The human in the loop, measured" (``notebooks/10_human_in_the_loop.py``).

The notebook calls :func:`hitl_page` once (it runs or resumes the ``hitl`` experiment of the
profile, or reads a published snapshot's ``hitl/`` folder) and then the page's ``show_*`` methods:
provenance, :meth:`HitlPage.curves_figure` (mIoU after k clicks per start x mode, 95 % bootstrap
CIs), :meth:`HitlPage.noc_table`, :meth:`HitlPage.bars`, :meth:`HitlPage.example_figure` (one
worked example, a strip of masks with the clicks drawn) and :meth:`HitlPage.verdict` (how many
clicks the default start saves against the whole-image box). A snapshot without hitl results
gives a page that says so (``missing``).

Conventions: masks ``(H, W)`` bool; clicks ``(x, y)`` original-image pixels (x = column); in
``imshow`` pixel ``(x, y)`` is centred on ``(x, y)``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

START_LABELS = {"default-strategy": "default strategy's mask", "algorithm1": "Algorithm 1 (Grad-CAM, p50)",
                "whole-image": "whole-image box (floor)", "gt-box": "ground-truth box (oracle)"}
MODE_COLORS = {"box-edit": "#d50000", "hybrid": "#2962ff", "points": "#00a152"}
GT_COLOR, MASK_COLOR = "#00e676", "#ff1744"


#: The slices' names as the NoC table prints them.
_SHORT_SLICE = {"small lesion (<10 % of image)": "small lesion", "touches border": "border"}


class ExampleUnavailable(RuntimeError):
    """The worked example needs the image's pixels, which this build does not have."""


@dataclass
class HitlPage:
    """The chapter's data: the ``hitl`` table, its summary tables and where they came from."""

    config: Any
    root: Path
    table: pd.DataFrame = field(repr=False)
    tables: dict[str, pd.DataFrame] = field(repr=False)
    summary: dict[str, Any] = field(repr=False)
    missing: str | None = None          # why there are no results to show (a snapshot without them)

    @property
    def available(self) -> bool:
        return self.missing is None

    # -- what the notebook cells call (each displays its part, or the reason it cannot) -----
    def _note(self) -> bool:
        from IPython.display import Markdown, display

        if self.missing:
            display(Markdown(f"*{self.missing}*"))
            return True
        return False

    def show_provenance(self) -> None:
        """The provenance box: for a published snapshot, the snapshot's (with this run's hitl
        parameters when it holds hitl results, then the missing note otherwise); for a run of
        this build, the hitl run's own."""
        from IPython.display import Markdown, display

        from .provenance import provenance, snapshot_of

        snap = snapshot_of(self.config) if self.config is not None else None
        if snap is not None:
            n = self.n_images if self.available else int(snap.published["dataset"]["n_images"])
            provenance(self.config, n_images=n, include_grid=False,
                       **(self.provenance_parameters() if self.available else {}))
            self._note()
            return
        if not self._note():
            display(Markdown(self.provenance()))

    def show_curves(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import display

        if self._note():
            return
        for slice_name in self.tables["curves"]["slice"].drop_duplicates():
            fig = self.curves_figure(slice_name)
            display(fig)
            plt.close(fig)

    def show_noc(self) -> None:
        from IPython.display import display

        if not self._note():
            display(self.noc_display().style.hide(axis="index").set_table_attributes('class="dataframe"'))

    def show_bars(self) -> None:
        from IPython.display import Markdown, display

        if not self._note():
            display(Markdown(self.bars()))

    def show_example(self) -> None:
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        if self._note():
            return
        try:
            fig = self.example_figure()
        except ExampleUnavailable as why:
            display(Markdown(f"*The worked example is not drawn in this build: {why}.*"))
            return
        display(fig)
        plt.close(fig)

    def show_verdict(self) -> None:
        from IPython.display import Markdown, display

        if not self._note():
            display(Markdown(self.verdict()))

    # -- numbers ----------------------------------------------------------------------------
    @property
    def max_clicks(self) -> int:
        return int(self.table["click"].max())

    @property
    def n_images(self) -> int:
        return int(self.table.loc[self.table["error"].isna(), "image_id"].nunique())

    def best_mode(self, start: str = "default-strategy") -> str:
        """The mode with the fewest clicks to 85 % from ``start`` (all images; ties: the higher
        mIoU after 5 clicks, then the name)."""
        noc = self.tables["noc"]
        sel = noc[(noc["start"] == start) & (noc["slice"] == "all")]
        if sel.empty:
            sel = noc[noc["slice"] == "all"]
        key = "miou@5" if "miou@5" in sel.columns else f"miou@{self.max_clicks}"
        best = sel.assign(_k=-sel[key]).sort_values(["noc@85", "_k", "mode"]).iloc[0]
        return str(best["mode"])

    def noc_table(self, slices: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The NoC table for display: one row per slice x start x mode (starts in table order)."""
        from ..experiments.hitl import STARTS

        noc = self.tables["noc"].copy()
        if slices is not None:
            noc = noc[noc["slice"].isin(slices)]
        noc["start"] = pd.Categorical(noc["start"], [s for s in STARTS if s in set(noc["start"])], ordered=True)
        cols = ["slice", "start", "mode", "n"] + [c for c in noc.columns if c.startswith("miou@")] + \
               ["noc@85", "noc@90", "never@85", "never@90", "worse_clicks", "mean_falls"]
        order = {s: i for i, s in enumerate(noc["slice"].drop_duplicates())}
        noc = noc.assign(_s=noc["slice"].map(order)).sort_values(["_s", "start", "mode"]).drop(columns="_s")
        noc["start"] = noc["start"].astype(str)
        return noc[cols].reset_index(drop=True)

    def noc_display(self) -> pd.DataFrame:
        """:meth:`noc_table` as the page prints it, every cell already text: mean IoUs with 3
        decimals, clicks (means over images) with 2 ("4.56"; a whole number reads "20.00", not
        a count), shares of images and clicks in per cent, counts as integers, the slice names
        short, so the table fits the page."""
        t = self.noc_table()
        out = pd.DataFrame({"slice": t["slice"].map(lambda s: _SHORT_SLICE.get(s, s)), "start": t["start"],
                            "mode": t["mode"], "n": t["n"].map(lambda v: f"{int(v)}")})
        for c in [c for c in t.columns if c.startswith("miou@")]:
            out[c] = t[c].map(lambda v: "–" if pd.isna(v) else f"{v:.3f}")
        for c in ("noc@85", "noc@90"):
            out[c] = t[c].map(lambda v: "–" if pd.isna(v) else f"{v:.2f}")
        for c in ("never@85", "never@90", "worse_clicks"):
            out[c] = t[c].map(lambda v: "–" if pd.isna(v) else f"{100 * v:.0f} %")
        out["mean_falls"] = t["mean_falls"].map(lambda v: "–" if pd.isna(v) else f"{int(v)}")
        return out

    def verdict(self, mode: str | None = None) -> str:
        """Markdown: clicks to 85 % from the default strategy's mask against the whole-image box
        (and the ground-truth box), with the never-reached shares, for ``mode`` (default: the
        best measured)."""
        from ..experiments.hitl_tables import verdict

        mode = mode or self.best_mode()
        noc = self.tables["noc"]
        lines = []
        for slice_name in noc["slice"].drop_duplicates():
            try:
                v = verdict(noc, mode, slice_name=slice_name)
            except KeyError:
                continue
            gt = noc[(noc["start"] == "gt-box") & (noc["mode"] == mode) & (noc["slice"] == slice_name)]
            gt_txt = (f"; from the ground-truth box (oracle) {float(gt['noc@85'].iloc[0]):.2f}"
                      if len(gt) else "")
            lines.append(f"- **{slice_name}** ({v['n']} images): {v['noc_start']:.2f} clicks to 85 % from the "
                         f"default strategy's mask against {v['noc_reference']:.2f} from the whole-image box: "
                         f"**{v['clicks_saved']:+.2f} clicks saved** per image; never within {self.max_clicks} "
                         f"clicks: {100 * v['never_start']:.0f} % against {100 * v['never_reference']:.0f} %"
                         f"{gt_txt}.")
        if not lines:
            return "*The default-strategy or whole-image start was not run: no verdict.*"
        return f"With `{mode}`:\n\n" + "\n".join(lines)

    def bars(self, mode: str | None = None) -> str:
        """Markdown: the targets set for the refinement modes before the published run (mean NoC@85
        at most 4, mIoU after 5 clicks at least 0.85, at most 15 % of images never at 85 %, no
        fall of the mean IoU), met or not, on this page's images (all-image slice)."""
        mode = mode or self.best_mode()
        noc = self.tables["noc"]
        alls = noc[noc["slice"] == "all"]
        d = alls[(alls["start"] == "default-strategy") & (alls["mode"] == mode)]
        lines = []
        if len(d):
            d = d.iloc[0]
            checks = [("mean NoC@85 <= 4", d["noc@85"] <= 4, f"{d['noc@85']:.2f}"),
                      ("mIoU after 5 clicks >= 0.85", d.get("miou@5", np.nan) >= 0.85, f"{d.get('miou@5', np.nan):.3f}"),
                      ("<= 15 % of images never reach 85 %", d["never@85"] <= 0.15, f"{100 * d['never@85']:.0f} %")]
            for name, ok, value in checks:
                lines.append(f"| {name} (default strategy's mask, `{mode}`) | {value} | {'met' if ok else '**not met**'} |")
        # the targets are on the default strategy's mask, in every mode; the other starts are shown beside it
        own = alls[alls["start"] == "default-strategy"]
        falls = own[own["mean_falls"] > 0]
        if len(own):
            fall_txt = (f"0 in every mode ({', '.join(own['mode'])})" if falls.empty else
                        "; ".join(f"{r.mode}: {r.mean_falls}" for r in falls.itertuples()))
            lines.append(f"| the mean IoU never falls from one click to the next, any mode (default strategy's mask) "
                         f"| {fall_txt} | {'met' if falls.empty else '**not met**'} |")
        rest = alls[alls["start"] != "default-strategy"]
        others = rest[rest["mean_falls"] > 0]
        if len(rest):
            other_txt = ("0 in every start x mode" if others.empty else
                         "; ".join(f"{r.start} x {r.mode}: {r.mean_falls}" for r in others.itertuples()))
            lines.append(f"| (not a target) falls of the mean IoU from the other starts | {other_txt} | |")
        return "| target | measured | |\n|---|---|---|\n" + "\n".join(lines)

    def provenance_parameters(self) -> dict[str, Any]:
        """The hitl run's parameters for the provenance box (split, starts, modes, clicks, ...)."""
        s = self.summary
        params = {"split": s.get("split", "?"), "starts": s.get("starts"), "modes": s.get("modes"),
                  "clicks per image": s.get("max_clicks"), "results": str(self.root),
                  "default strategy": (s.get("start_identities", {}).get("default-strategy") or {}).get("strategy", "-"),
                  "ranking weights of the default strategy": (lambda w: f"{w.get('name', '-')} (k_masks = "
                                                              f"{w.get('k_masks', '?')})")(
                      (s.get("start_identities", {}).get("default-strategy") or {}).get("ranking_weights") or {}),
                  "simulated user": "RITM's clicker (reads the ground truth)",
                  "run": f"{s.get('n_rows', '?')} rows, {s.get('n_errors', '?')} errors, commit "
                         f"{str(s.get('git_commit', '?'))[:12]}"}
        for m, p in (s.get("mode_params") or {}).items():
            params[f"mode {m}"] = ", ".join(f"{k}={v}" for k, v in p.items() if k != "ladder")
        return params

    def provenance(self) -> str:
        """Markdown provenance box of the run (split, images, starts, modes, parameters)."""
        from .. import viz

        params = self.provenance_parameters()
        cfg = self.config
        from ..data.registry import dataset_spec
        from .provenance import dataset_label

        dataset = dataset_label(cfg)
        return viz.provenance_markdown(profile=cfg.name, dataset=dataset, n_images=self.n_images,
                                       models={cfg.models[0]: cfg.zero_shot_weights}, segmenter=cfg.segmenter,
                                       checkpoint=cfg.segmenter_checkpoint or "default checkpoint of the segmenter",
                                       parameters=params, synthetic=dataset_spec(cfg.dataset).synthetic)

    # -- figures ----------------------------------------------------------------------------
    def curves_figure(self, slice_name: str = "all", threshold: float = 0.85):
        """mIoU after k clicks (k = 0..max), one panel per start, one line per mode with its 95 %
        bootstrap CI band; the dotted line is the 85 % target."""
        import matplotlib.pyplot as plt

        from ..experiments.hitl import STARTS

        c = self.tables["curves"]
        c = c[c["slice"] == slice_name]
        starts = [s for s in STARTS if s in set(c["start"])]
        fig, axes = plt.subplots(1, len(starts), figsize=(3.6 * len(starts), 3.4), sharey=True, squeeze=False)
        for ax, start in zip(axes[0], starts):
            for mode, g in c[c["start"] == start].groupby("mode", sort=True):
                g = g.sort_values("click")
                color = MODE_COLORS.get(mode)
                ax.plot(g["click"], g["miou"], marker="o", ms=2.5, lw=1.4, color=color, label=mode)
                ax.fill_between(g["click"], g["ci_low"], g["ci_high"], color=color, alpha=0.15, lw=0)
            ax.axhline(threshold, color="0.4", ls=":", lw=1)
            n = int(c.loc[c["start"] == start, "n"].max())
            ax.set_title(f"{START_LABELS.get(start, start)}\n(n = {n})", fontsize=9)
            ax.set_xlabel("clicks")
            ax.set_xlim(0, self.max_clicks)
            ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
        axes[0, 0].set_ylabel("mean IoU")
        axes[0, 0].legend(fontsize=8, loc="lower right")
        fig.suptitle(f"mean IoU after k simulated clicks · {slice_name} · 95 % bootstrap CI", fontsize=10)
        fig.tight_layout()
        return fig

    def example_image(self, start: str = "default-strategy", mode: str | None = None) -> str:
        """The worked example's image: among the images whose ``start`` mask is below 85 % and
        that reach 85 % with ``mode``, the one whose clicks-to-85 % is nearest the mean of those
        (ties: the smaller id)."""
        from ..experiments.hitl_tables import noc

        mode = mode or self.best_mode(start)
        t = self.table[(self.table["start"] == start) & (self.table["mode"] == mode) & self.table["error"].isna()]
        if t.empty:
            raise ExampleUnavailable(f"no {start} x {mode} rows")
        wide = t.pivot_table(index="image_id", columns="click", values="iou").sort_index()
        n85 = noc(wide.to_numpy(), 0.85, self.max_clicks)
        ok = (wide[0].to_numpy() < 0.85) & (n85 < self.max_clicks)
        if not ok.any():
            raise ExampleUnavailable(f"no image of {start} x {mode} goes from below 85 % to 85 %")
        cand = pd.DataFrame({"image_id": wide.index[ok], "noc": n85[ok]})
        target = cand["noc"].mean()
        cand = cand.assign(d=(cand["noc"] - target).abs()).sort_values(["d", "image_id"])
        return str(cand["image_id"].iloc[0])

    def example_figure(self, start: str = "default-strategy", mode: str | None = None, image_id: str | None = None,
                       shown: tuple[int, ...] = (0, 1, 2, 3, 5, 10)):
        """One worked example: the masks after the clicks in ``shown`` with the clicks so far
        drawn (green + positive, red - negative), the ground truth's outline in green. The masks
        are recomputed from the image (one embedding) by replaying the table's clicks through the
        mode, and checked against the table's IoU. Raises :class:`ExampleUnavailable` when the
        image is not here."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap

        from ..experiments.hitl import StartMaker
        from ..metrics import segmentation_metrics
        from ..refinement import Click, build_mode, replay
        from ..segmenters import build_segmenter

        mode = mode or self.best_mode(start)
        image_id = image_id or self.example_image(start, mode)
        rows = self.table[(self.table["start"] == start) & (self.table["mode"] == mode)
                          & (self.table["image_id"] == image_id)].sort_values("click")
        from ..experiments.datasets import evaluation_ids
        from .provenance import FigureUnavailable
        from .recompute import figure_samples

        try:
            split = evaluation_ids(self.config)[2] if self.summary.get("split") is None else self.summary["split"]
            sample = figure_samples(self.config)(image_id)
        except FigureUnavailable as why:
            raise ExampleUnavailable(str(why)) from None
        except Exception as exc:  # noqa: BLE001 - no pixels here: the page says why
            raise ExampleUnavailable(f"the image {image_id} cannot be read here ({type(exc).__name__}: {exc})") from None
        seg = build_segmenter(self.config.segmenter, checkpoint=self.config.segmenter_checkpoint,
                              device=self.config.device)
        emb = seg.embed(sample.image)
        gt = np.asarray(sample.mask, dtype=bool)
        st = StartMaker(self.config, seg, split).make(start, image_id, sample.image, gt, emb)
        m = build_mode(mode)
        made = rows[rows["click_positive"].notna() & (rows["click"] > 0)]
        clicks = [Click(float(r.click_x), float(r.click_y), bool(r.click_positive)) for r in made.itertuples()]
        states = replay(m, seg, emb, m.start(seg, emb, st.box, st.mask), clicks)
        by_k, j = {0: states[0]}, 0
        for r in rows[rows["click"] > 0].itertuples():
            if r.click_positive is not None and not pd.isna(r.click_positive):
                j += 1
            by_k[int(r.click)] = states[j]
        for k, state in by_k.items():
            want = float(rows.loc[rows["click"] == k, "iou"].iloc[0])
            got = segmentation_metrics(state.mask, gt)["iou"]
            if abs(got - want) > 1e-6:
                raise RuntimeError(f"{image_id}: replayed IoU after {k} clicks is {got:.4f}, the table says {want:.4f}")
        shown = tuple(k for k in shown if k in by_k)
        union = gt.copy()
        for k in shown:
            union |= by_k[k].mask
        rr, cc = np.nonzero(union)
        pad = int(0.15 * max(np.ptp(rr) + 1, np.ptp(cc) + 1)) + 4
        h, w = gt.shape
        y0, y1 = max(0, rr.min() - pad), min(h, rr.max() + pad + 1)
        x0, x1 = max(0, cc.min() - pad), min(w, cc.max() + pad + 1)
        fig, axes = plt.subplots(1, len(shown), figsize=(2.3 * len(shown), 2.6), squeeze=False)
        for ax, k in zip(axes[0], shown):
            state = by_k[k]
            ax.imshow(sample.image)
            ax.contour(gt.astype(float), [0.5], colors=[GT_COLOR], linewidths=1.2)
            if state.mask.any():
                ax.imshow(np.ma.masked_where(~state.mask, np.ones_like(gt, float)), cmap=ListedColormap([MASK_COLOR]),
                          alpha=0.35, vmin=0, vmax=1)
                ax.contour(state.mask.astype(float), [0.5], colors=[MASK_COLOR], linewidths=1.0)
            for i, c in enumerate(state.clicks):
                ax.plot(c.x, c.y, "o", ms=6, mfc=GT_COLOR if c.positive else MASK_COLOR, mec="white", mew=1)
                ax.annotate(str(i + 1), (c.x, c.y), xytext=(3, 3), textcoords="offset points", fontsize=6,
                            color="white")
            iou = segmentation_metrics(state.mask, gt)["iou"]
            ax.set_title(f"{k} click{'s' if k != 1 else ''} · IoU {iou:.2f}\n{state.last}", fontsize=8)
            ax.set_xlim(x0 - 0.5, x1 - 0.5)
            ax.set_ylim(y1 - 0.5, y0 - 0.5)
            ax.axis("off")
        fig.suptitle(f"{image_id} · start: {START_LABELS.get(start, start)} · mode: {mode}  "
                     "(ground truth green, mask red; clicks: green positive, red negative)", fontsize=8)
        fig.tight_layout()
        return fig


def hitl_page(cfg, max_clicks: int | None = None) -> HitlPage:
    """The page of the config ``cfg`` of the notebook's parameters
    (:func:`~.notebook.notebook_config`).

    With ``published`` (a snapshot folder): the snapshot's ``hitl/`` results (``hitl.parquet``,
    ``hitl_summary.json``, copied there by ``cam2seg publish`` from the run's
    ``<output_dir>/hitl/``), or a page that says they are missing and how to make them.
    Otherwise: run (or resume, or only read back) the ``hitl`` experiment of the profile into
    ``<output_dir>/hitl`` (every start and mode, ``max_clicks`` clicks per image; None: 20, the
    book's)."""
    from ..experiments.hitl import hitl_dir, load_table, run_hitl
    from ..experiments.hitl_tables import summary_tables
    from .provenance import snapshot_of
    from .steps import ensure_data

    snap = snapshot_of(cfg)
    if snap is not None:
        root = Path(cfg.output_dir) / "hitl"
        if not (root / "hitl.parquet").is_file():
            return HitlPage(cfg, root, pd.DataFrame(), {}, {}, missing=(
                f"The published snapshot `{snap.folder.as_posix()}` holds no results of the `hitl` experiment "
                f"(`hitl/hitl.parquet`), so this page has no numbers to show. Make them with "
                f"`python -m cam2seg_utils hitl --profile {cfg.name}` (it writes `<output_dir>/hitl/`), then "
                f"publish the run again (`python -m cam2seg_utils publish --profile {cfg.name}` copies them into "
                "the snapshot)."))
        table = load_table(root)
        summary_path = root / "hitl_summary.json"
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else {}
        tables = summary_tables(table, max_clicks=int(table["click"].max()))
        return HitlPage(cfg, root, table, tables, summary)
    cfg = cfg.replace(progress=False)
    ensure_data(cfg)
    res = run_hitl(cfg, max_clicks=max_clicks, progress=False)
    return HitlPage(cfg, hitl_dir(cfg), res.table, res.tables, res.summary)


__all__ = ["HitlPage", "hitl_page", "ExampleUnavailable", "START_LABELS"]

"""Our numbers beside the paper's (notebook 08), row by row, each of ours naming the data and
split it was measured on and carrying the ground-truth-box and whole-image-box IoU of the same
images. A row of ours on other images than the paper's is labelled "different data"; a
difference is read as one only on the paper's own images, and never as "better".

:func:`run` opens the page (grid, classification table, provenance, the reasons our numbers
differ); :func:`table2_comparison`, :func:`table1_comparison` and :func:`text_comparison` are
the three tables. Our CIs are the same cells' as on the Table 1 / Table 2 pages.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.registry import dataset_spec
from .. import paper
from ..experiments import summary
from ..names import PAPER_CAM_LABELS, PAPER_CAMS, PAPER_MODEL_BY_LABEL, PAPER_MODEL_LABELS
from .fig4 import GAIN_POINTS, GAIN_RELATIVE, accuracy_drop_table
from .notebook import Stopwatch, markdown
from .provenance import provenance
from .recompute import preferred
from .steps import ensure_finetuned, ensure_grid
from .tables import (CI_TEXT, baseline_mean, best_rows, cam_rows, main_variant, n_test_images, single_params,
                     split_label, with_ci_text)

COLUMNS_T2 = ["setting", "paper model", "paper IoU", "paper Dice", "our model", "our data", "our IoU [95% CI]",
              "our Dice", "our IoU, non-oracle", "GT box IoU, same images", "whole-image box IoU, same images",
              "comparison", "why"]


def run(config) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(grid, classification table or None)`` of ``config``, after the provenance box and the
    plain reasons why this build's numbers cannot equal the paper's."""
    with Stopwatch() as sw:
        grid = ensure_grid(config)
        clf = ensure_finetuned(config) if "fine-tuned" in config.settings else None
    provenance(config, n_images=n_test_images(grid), wall_time_s=sw.seconds, split=split_label(grid))
    markdown("**Why our numbers differ here:** " + "; ".join(difference_reasons(config, grid)) + ".")
    return grid, clf


def _model_note(model: str) -> str:
    label = paper.paper_model_label(model)
    if label is None:
        return f"{model} is not one of the paper's models"
    if PAPER_MODEL_BY_LABEL.get(label) != model:
        return f"{model} stands in for the paper's {label}"
    return ""


def difference_reasons(config, grid: pd.DataFrame) -> list[str]:
    """Plain reasons why this build's numbers cannot equal the paper's."""
    out = []
    if dataset_spec(config.dataset).synthetic:
        out.append("the images are synthetic, not ISIC 2017")
    elif config.test_holdout_fraction is not None:
        out.append("the test images are a held-out part of the ISIC 2017 training split, not the official test set")
    n = n_test_images(grid)
    if n != int(paper.get("data.n_test").value):
        out.append(f"{n} test images instead of the paper's 600")
    out += [m for m in (_model_note(x) for x in config.models) if m]
    missing = [lab for lab in PAPER_MODEL_LABELS if lab not in {paper.paper_model_label(m) for m in config.models}]
    if missing:
        out.append("models not run here: " + ", ".join(missing))
    if config.segmenter != "medsam_vit_b":
        out.append(f"the segmenter is {config.segmenter}, not MedSAM ViT-B")
    if "fine-tuned" not in config.settings:
        out.append("no fine-tuned classifier in this run (zero-shot only)")
    elif config.epochs < 500 or config.patience != 20:
        out.append(f"fine-tuning for at most {config.epochs} epochs with patience {config.patience} (paper: 500, 20)")
    cams_missing = [c for c in PAPER_CAMS if c not in config.cams]
    if cams_missing:
        out.append("CAMs not run here: " + ", ".join(cams_missing))
    out.append("the paper does not state its percentile, number of points or amplification; we use "
               f"{config.percentile[0]:g}, {config.num_points[0]}, {config.amplification[0]:g}")
    return out


def our_data(config, grid: pd.DataFrame, image_ids=None) -> str:
    """``"ISIC 2017, Training (held-out test), 150 images"``: the data a row of ours is on."""
    from ..experiments.datasets import dataset_name

    name = dataset_name(config)
    n = len(set(image_ids)) if image_ids is not None else n_test_images(grid)
    return f"{name}, {split_label(grid)}, {n} images"


def same_data_as_paper(config, grid: pd.DataFrame) -> bool:
    """Whether our rows are on the paper's images: the official ISIC 2017 test split, all 600."""
    from ..data.isic import canonical_split

    return (dataset_spec(config.dataset).paper_data and config.test_holdout_fraction is None and config.evaluate_on == "test"
            and canonical_split(config.test_split) in ("Test", "Test_v2")
            and n_test_images(grid) == int(paper.get("data.n_test").value))


def _verdict(same_data: bool, ours: float, theirs: float) -> str:
    """Never "better": a difference is only read as one on the same images."""
    if not same_data:
        return "different data"
    if not (np.isfinite(ours) and np.isfinite(theirs)):
        return "same data"
    return f"same data: ours - paper = {ours - theirs:+.3f}"


def _beside(grid: pd.DataFrame, image_ids) -> dict[str, float]:
    return {"GT box IoU, same images": baseline_mean(grid, "gt-box", image_ids),
            "whole-image box IoU, same images": baseline_mean(grid, "whole-image-box", image_ids)}


def _ablation_row(grid: pd.DataFrame, config, row: dict[str, Any]) -> dict[str, Any]:
    gt = summary.ok_rows(grid)
    gt = gt[gt["setting"] == "gt-box"]
    if len(gt):
        ci = with_ci_text(summary.gt_baseline_table(gt, ci=True)).iloc[0]   # the cell of the baselines' table
        row.update({"our model": f"gt-box, {ci['segmenter']}", "our data": our_data(config, grid, gt["image_id"]),
                    "our IoU": ci["iou"], "our IoU [95% CI]": ci[CI_TEXT.format("iou")], "our Dice": ci["dice"],
                    **_beside(grid, gt["image_id"]),
                    # the paper's row is quoted from another paper, on other images
                    "comparison": "different data"})
    row["why"] = ("paper: SAM/MedSAM values quoted from ref. [1] with that paper's prompts; "
                  "ours: the tight ground-truth box on our test images")
    return row


def table2_comparison(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 2 row by row: paper vs ours (oracle, as the paper; plus our non-oracle IoU). Each of
    our rows names its data and split and carries the GT-box and whole-image-box IoU of the same
    images; ``comparison`` says "different data" unless the images are the paper's. Our CI is
    the Table 2 cell's (setting x model x selection)."""
    pv = main_variant(config)
    best = best_rows(grid, config)           # per image
    t2 = (summary.best_method_table(grid, prompt_variant=pv, ci=True, **single_params(config)) if len(best)
          else pd.DataFrame())               # per cell, with the CIs
    same = same_data_as_paper(config, grid)
    rows = []
    for _, pr in paper.table2().iterrows():
        row: dict[str, Any] = {"setting": pr["setting"], "paper model": pr["model"], "paper IoU": pr["iou"],
                               "paper Dice": pr["dice"]}
        if pr["setting"] == "ablation":
            rows.append(_ablation_row(grid, config, row))
            continue
        ours = [m for m in config.models if paper.paper_model_label(m) == pr["model"]]
        if not ours or t2.empty:
            row["why"] = "not run in this profile"
            rows.append(row)
            continue
        for m in ours:
            r = dict(row)
            cell = t2[(t2["setting"] == pr["setting"]) & (t2["model"] == m)]
            o = cell[cell["selection"] == summary.ORACLE]
            if o.empty:
                r["our model"] = m
                r["why"] = "setting not run in this profile"
                rows.append(r)
                continue
            ci = with_ci_text(o).iloc[0]
            mine = best[(best["setting"] == pr["setting"]) & (best["model"] == m)]
            ids = mine[mine["selection_key"] == "oracle"]["image_id"]
            r.update({"our model": m, "our data": our_data(config, grid, ids), "our IoU": ci["iou"],
                      "our IoU [95% CI]": ci[CI_TEXT.format("iou")], "our Dice": ci["dice"],
                      "our IoU, non-oracle": mine[mine["selection_key"] == "predicted-iou"]["iou"].mean(),
                      **_beside(grid, ids), "comparison": _verdict(same, ci["iou"], pr["iou"]),
                      "why": _model_note(m)})
            rows.append(r)
    df = pd.DataFrame(rows)
    for col in COLUMNS_T2:
        if col not in df.columns:
            df[col] = np.nan
    return df[COLUMNS_T2]


def table1_comparison(grid: pd.DataFrame, config) -> pd.DataFrame:
    """Table 1 per CAM: paper (fine-tuned Swin) vs our noisy masks (our preferred setting/model),
    with our data, the GT-box and whole-image-box IoU of the same images, and the comparison.
    Our CI is the Table 1 cell's (setting x model x CAM)."""
    rows_all = cam_rows(grid, "cam-mask")
    setting, model = preferred(config, grid)
    mine = rows_all[(rows_all["setting"] == setting) & (rows_all["model"] == model)]
    ci = pd.DataFrame()
    if len(mine):
        t1 = with_ci_text(summary.cam_mask_table(grid, ci=True, **single_params(config)))
        ci = t1[(t1["setting"] == setting) & (t1["model"] == model)].set_index("cam")
    why = "; ".join(x for x in (_model_note(model), "" if setting == "fine-tuned" else "zero-shot, not fine-tuned") if x)
    same = same_data_as_paper(config, grid)
    rows = []
    for cam, vals in paper.TABLE1.items():
        r = {"CAM": cam, "paper IoU": vals["iou"], "paper Dice": vals["dice"], "ours": f"{model} ({setting})"}
        if cam in ci.index:
            ids = mine[mine["cam"] == cam]["image_id"]
            r.update({"our data": our_data(config, grid, ids), "our IoU [95% CI]": ci.loc[cam, CI_TEXT.format("iou")],
                      "our Dice": ci.loc[cam, "dice"], **_beside(grid, ids),
                      "comparison": _verdict(same, ci.loc[cam, "iou"], vals["iou"]), "why": why})
        else:
            r["why"] = "CAM not run in this profile"
        rows.append(r)
    return pd.DataFrame(rows)


def quantity_label(key: str) -> str:
    """A paper value's key in words for a page: ``"fig4.fine_tuned.min_accuracy"`` ->
    ``"Fig. 4: fine-tuned, min accuracy"`` (the page shows no raw key)."""
    import re

    head, *rest = key.split(".")
    m = re.fullmatch(r"(fig|table)(\d+)", head)
    head = f"{'Fig.' if m.group(1) == 'fig' else 'Table'} {m.group(2)}" if m else head
    words = [r.replace("_", " ").replace("fine tuned", "fine-tuned").replace("zero shot", "zero-shot")
             .replace("mobilenet v2", "MobileNet-v2").replace("swin", "Swin").replace("gradcam", "Grad-CAM")
             .replace("iou", "IoU") for r in rest]
    return f"{head}: {', '.join(words)}" if words else head


def text_comparison(grid: pd.DataFrame, clf: pd.DataFrame | None, config) -> pd.DataFrame:
    """The values the paper quotes in its text (Fig. 4, 5, 6) beside ours."""
    pv = main_variant(config)
    rows = []
    data = our_data(config, grid)
    verdict = "same data" if same_data_as_paper(config, grid) else "different data"

    def add(key: str, ours: Any, note: str = "") -> None:
        v = paper.get(key)
        rows.append({"quantity": quantity_label(key), "paper": ("~" if v.approximate else "") + f"{v.value:g}", "source": v.source,
                     "ours": ours, "our data": data, "comparison": verdict, "note": note})

    if clf is not None and len(clf):
        ft = clf[clf["setting"] == "fine-tuned"]
        add("fig4.fine_tuned.min_accuracy", f"{ft['accuracy'].min():.3f}" if len(ft) else "n/a",
            "lowest fine-tuned test accuracy over our models")
        drops = accuracy_drop_table(clf)
        for label, key in (("MobileNet_v2", "fig4.mobilenet_v2.accuracy_drop"), ("Swin", "fig4.swin.accuracy_drop")):
            d = drops[drops["paper model"] == label] if len(drops) else drops
            add(key, f"{d[GAIN_POINTS].iloc[0]:.3f} pts / {d[GAIN_RELATIVE].iloc[0]:.3f} rel." if len(d) else "not run",
                "fine-tuned minus zero-shot accuracy, in points and relative (positive: fine-tuning helped)")
    if len(cam_rows(grid, pv)):
        ind = summary.individual_table(grid, prompt_variant=pv, **single_params(config))
        for setting, key in (("zero-shot", "fig5.zero_shot.best_iou"), ("fine-tuned", "fig5.fine_tuned.best_iou")):
            g = ind[ind["setting"] == setting]
            if len(g):
                top = g.sort_values("iou", ascending=False).iloc[0]
                add(key, f"{top['iou']:.3f}", f"best pair here: {top['model']} + {top['cam']}")
            else:
                add(key, "not run")
        z = summary.zero_iou_counts(grid, prompt_variant=pv, **single_params(config))
        z = z[z["method"] == "best: " + summary.ORACLE]
        for setting, key in (("zero-shot", "fig6.zero_shot.mobilenet_v2.zero_iou_count"),
                             ("fine-tuned", "fig6.fine_tuned.mobilenet_v2.zero_iou_count")):
            g = z[z["setting"] == setting]
            mob = g[g["model"].map(lambda m: paper.paper_model_label(m) == "MobileNet_v2")]
            g = mob if len(mob) else g
            if len(g):
                r = g.iloc[0]
                add(key, f"{int(r['n_zero_iou'])} of {int(r['n'])} ({600 * r['frac_zero_iou']:.0f} per 600)",
                    f"{r['model']}, best CAM (oracle)")
            else:
                add(key, "not run")
    cm = cam_rows(grid, "cam-mask")
    g = cm[(cm["cam"] == PAPER_CAM_LABELS["GradCAM"]) & (cm["setting"] == "fine-tuned")]
    add("table1.gradcam.iou", f"{g['iou'].mean():.3f}" if len(g) else "not run", "fine-tuned, all our models")
    return pd.DataFrame(rows)


__all__ = ["run", "difference_reasons", "our_data", "same_data_as_paper", "table2_comparison",
           "table1_comparison", "text_comparison"]

"""Time per image of each prompting strategy (decoder calls only; the embedding is shared).

    python benchmarks/bench_strategies.py [--isic-root ../shared/isic2017] [--images 4]

For each image: one LiteMedSAM embedding and the Grad-CAM / Grad-CAM++ heatmaps of the embedded
EfficientNet-Lite0 (not timed per strategy), then every registered strategy on a fresh context
(no decode cache, so each strategy pays for all its own prompts), side by side with the encoder
time, so the ratios are read in one run. Real ISIC images when the folder exists, else the
synthetic set.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from cam2seg_utils.cams import CamExtractor
    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.data.synthetic import generate_synthetic
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.prompting import STRATEGIES, PromptContext, build_strategy
    from cam2seg_utils.segmenters import build_segmenter

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isic-root", default=str(REPO.parent / "shared" / "isic2017"))
    ap.add_argument("--images", type=int, default=4)
    args = ap.parse_args()
    root = Path(args.isic_root)
    if (root / "ISIC-2017_Training_Data").is_dir():
        ds, label = ISICDataset(root, split="Training"), f"ISIC 2017 ({root})"
    else:
        ds, label = ISICDataset(generate_synthetic("data/bench", n_images=args.images, seed=0, split="Test",
                                                   progress=False), split="Test"), "synthetic"
    seg = build_segmenter("litemedsam")
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded")
    times: dict[str, list[float]] = {n: [] for n in STRATEGIES.names()}
    prompts: dict[str, list[int]] = {n: [] for n in STRATEGIES.names()}
    calls: dict[str, list[int]] = {n: [] for n in STRATEGIES.names()}
    t_embed = []
    for image_id in list(ds.ids)[: args.images]:
        sample = ds.load(image_id)
        t0 = time.perf_counter()
        emb = seg.embed(sample.image)
        t_embed.append(time.perf_counter() - t0)
        target = clf.predict(sample.image).class_index
        heats = {}
        for cam in ("gradcam", "gradcam++"):
            with CamExtractor(clf, cam, progress=False) as ex:
                heats[cam] = ex(sample.image, target_class=target).heatmap
        for name in STRATEGIES.names():
            strategy = build_strategy(name)
            hm = {} if not strategy.uses_classifier else ({"gradcam": heats["gradcam"]} if strategy.per_cam else heats)
            ctx = PromptContext(sample.image, emb, seg, hm, np.random.default_rng(0))
            t0 = time.perf_counter()
            strategy(ctx)
            times[name].append(time.perf_counter() - t0)
            prompts[name].append(ctx.decoder_prompts)
            calls[name].append(ctx.decoder_calls)
    enc = float(np.median(t_embed))
    print(f"data: {label}, {len(t_embed)} images; LiteMedSAM encoder median {enc * 1e3:.0f} ms / image")
    # A strategy gets heatmaps as arrays and no classifier (PromptContext holds none), so it can
    # add no classifier pass: the CAMs above are the only ones, shared by every strategy.
    print("extra classifier passes per image: 0 for every strategy (the context holds no classifier)")
    print(f"{'strategy':14s} {'median ms/img':>14s} {'prompts/img':>12s} {'decoder calls':>14s} {'x encoder':>10s}")
    for name in STRATEGIES.names():
        med = float(np.median(times[name]))
        print(f"{name:14s} {med * 1e3:14.0f} {np.mean(prompts[name]):12.1f} {np.mean(calls[name]):14.1f} "
              f"{med / enc:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

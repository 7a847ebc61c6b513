"""The mask decoder's cost: one call, n calls of one prompt, one batch of n, side by side.

    python benchmarks/bench_decoder.py [--isic-root ../shared/isic2017] [--repeats 3] [--threads 1]

On one ISIC 2017 validation image, the ``n`` candidate boxes of the default strategy
(``candidates`` on its Grad-CAM and Grad-CAM++ heatmaps: about 50), decoded by LiteMedSAM:

* ``one call``: one prompt (what one call costs);
* ``n calls``: each prompt alone;
* ``batch, segment-anything``: the n prompts in one call of segment-anything's ``MaskDecoder``
  (the image embedding and positional encoding copied per prompt, four masks per prompt);
* ``batch, shared embedding``: :func:`cam2seg_utils.segmenters.decoder.decode_low_res` (no
  copies, the one mask kept, a few prompts at a time), for several chunk sizes;
* ``+ image-size masks``: ``segment_batch`` (the above plus every mask brought to the image size).

Prints the median seconds of each and the largest logit difference from segment-anything's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timeit(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--isic-root", default=str(Path(__file__).resolve().parents[1] / "../shared/isic2017"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from cam2seg_utils.cams import compute_heatmap
    from cam2seg_utils.data.isic import ISICDataset
    from cam2seg_utils.models import build_classifier
    from cam2seg_utils.prompting import PromptContext, build_strategy
    from cam2seg_utils.segmenters import build_segmenter
    from cam2seg_utils.segmenters.decoder import decode_low_res

    torch.set_num_threads(args.threads)
    ds = ISICDataset(args.isic_root, "Validation")
    s = ds.load(sorted(ds.ids)[0])
    clf = build_classifier("tf_efficientnet_lite0", weights="embedded")
    seg = build_segmenter("litemedsam")
    emb = seg.embed(s.image)
    heat = {cam: compute_heatmap(clf, s.image, cam).heatmap for cam in ("gradcam", "gradcam++")}
    ctx = PromptContext(s.image, emb, seg, heat, np.random.default_rng(0))
    boxes = np.stack(build_strategy("candidates").planned_boxes(ctx))
    n = len(boxes)
    box_t, _, _, _ = seg.prompt_tensors(emb.original_size, boxes)
    with torch.inference_mode():
        sparse, dense = seg.prompt_encoder(points=None, boxes=box_t[:, None, :], masks=None)
        pe = seg.prompt_encoder.get_dense_pe()

        def stock(sl=slice(None)):
            return seg.mask_decoder(image_embeddings=emb.features, image_pe=pe, sparse_prompt_embeddings=sparse[sl],
                                    dense_prompt_embeddings=dense[sl], multimask_output=False)

        ref, _ = stock()
        rows = [("one call (segment-anything)", timeit(lambda: stock(slice(0, 1)), args.repeats)),
                (f"{n} calls of one (segment-anything)",
                 timeit(lambda: [stock(slice(i, i + 1)) for i in range(n)], max(1, args.repeats // 2))),
                (f"batch of {n} (segment-anything)", timeit(stock, args.repeats))]
        diffs = []
        for chunk in (1, 2, 4, 8, n):
            rows.append((f"batch of {n}, shared embedding, chunks of {chunk}",
                         timeit(lambda: decode_low_res(seg.mask_decoder, emb.features, pe, sparse, dense, chunk),
                                args.repeats)))
            diffs.append(float((decode_low_res(seg.mask_decoder, emb.features, pe, sparse, dense, chunk)[0] - ref)
                               .abs().max()))
    rows.append((f"segment_batch of {n} (+ {emb.original_size[1]}x{emb.original_size[0]} masks)",
                 timeit(lambda: seg.segment_batch(emb, boxes), args.repeats)))
    print(f"LiteMedSAM decoder, {n} candidate boxes of {s.image_id}, {args.threads} thread(s), "
          f"torch {torch.__version__}")
    for name, t in rows:
        print(f"{name:<60} {t:8.3f} s  ({t / (n if 'batch' in name or 'calls' in name else 1):.4f} s / prompt)")
    print(f"largest |logit difference| from segment-anything's batch: {max(diffs):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The SAM-family mask decoder run on one image embedding shared by ``B`` prompts.

segment-anything's ``MaskDecoder.predict_masks`` copies the image embedding and its positional
encoding once per prompt (``repeat_interleave``: ``B x 256 x 64 x 64`` float32, 4 MB per prompt
and per copy) and then computes all four mask tokens' masks, of which ``multimask_output=False``
keeps the first. :func:`decode_low_res` computes the same thing without those copies:

* the image embedding (plus the dense prompt embedding, the same ``no_mask_embed`` for every
  prompt without a ``mask_input``) and the positional encoding stay ``(1, 256, 64, 64)``; the
  two-way transformer's first layer broadcasts them against the prompts' tokens (its attention
  layers are batched matrix products, which broadcast), so their key / value projections run
  once instead of ``B`` times; from the first image-to-token attention on, the image tokens
  differ per prompt, as in the original;
* only the first mask token's hypernetwork and mask are computed (the one
  ``multimask_output=False`` returns), with its IoU prediction;
* the prompts go through in chunks of :data:`CHUNK_PROMPTS`: a batch of 52 prompts at once
  makes ``52 x 8 MB`` intermediate tensors, whose allocation and memory traffic cost more than
  the computation on a CPU (``benchmarks/bench_decoder.py`` measures one call, ``n`` calls, one
  batch of ``n`` and this path side by side).

The outputs equal the original's to float32 rounding (``tests/test_segmenters.py`` compares
them at 1e-5 on the real LiteMedSAM weights).
"""
from __future__ import annotations

from typing import Tuple

import torch
import torch.nn as nn

#: prompts decoded together: the per-prompt tensors of a chunk stay a few tens of MB
CHUNK_PROMPTS = 4


def decode_low_res(mask_decoder: nn.Module, image_embeddings: torch.Tensor, image_pe: torch.Tensor,
                   sparse: torch.Tensor, dense: torch.Tensor,
                   chunk: int = CHUNK_PROMPTS) -> Tuple[torch.Tensor, torch.Tensor]:
    """``MaskDecoder(..., multimask_output=False)`` without per-prompt copies of the image.

    Args:
        mask_decoder: a segment-anything ``MaskDecoder`` (its ``transformer``, tokens, upscaling,
            hypernetwork MLPs and IoU head are used as they are).
        image_embeddings: ``(1, C, h, w)`` the image encoder's output (C = 256, h = w = 64).
        image_pe: ``(1, C, h, w)`` the prompt encoder's dense positional encoding.
        sparse: ``(B, T, C)`` the prompts' sparse embeddings (boxes, points).
        dense: ``(B, C, h, w)`` the dense prompt embeddings; when it is one tensor expanded over
            the batch (stride 0: no ``mask_input``) it is added to the image once.
        chunk: prompts decoded together.
    Returns:
        ``(low_res, iou)``: ``(B, 1, 4h, 4w)`` mask logits on the model canvas (256 x 256 for a
        64 x 64 embedding) and ``(B, 1)`` predicted IoU, as the original with
        ``multimask_output=False``.
    """
    if image_embeddings.shape[0] != 1:
        raise ValueError("one image embedding (1, C, h, w) is shared by the prompts, "
                         f"got {tuple(image_embeddings.shape)}")
    batch = sparse.shape[0]
    shared_dense = dense.shape[0] == 1 or dense.stride(0) == 0
    src_shared = image_embeddings + dense[:1] if shared_dense else None
    output_tokens = torch.cat([mask_decoder.iou_token.weight, mask_decoder.mask_tokens.weight], dim=0)
    lows, ious = [], []
    for start in range(0, batch, max(1, int(chunk))):
        sp = sparse[start:start + chunk]
        b = sp.shape[0]
        tokens = torch.cat((output_tokens.unsqueeze(0).expand(b, -1, -1), sp), dim=1)
        src = src_shared if shared_dense else image_embeddings + dense[start:start + chunk]
        hs, keys = mask_decoder.transformer(src, image_pe, tokens)
        if keys.shape[0] != b:   # no prompt token reached the image (cannot happen with SAM's layers)
            keys = keys.expand(b, -1, -1)
        _, c, h, w = image_embeddings.shape
        upscaled = mask_decoder.output_upscaling(keys.transpose(1, 2).reshape(b, c, h, w))
        hyper = mask_decoder.output_hypernetworks_mlps[0](hs[:, 1, :])          # (b, C / 8)
        bu, cu, hu, wu = upscaled.shape
        lows.append((hyper[:, None, :] @ upscaled.view(bu, cu, hu * wu)).view(bu, 1, hu, wu))
        ious.append(mask_decoder.iou_prediction_head(hs[:, 0, :])[:, 0:1])
    return torch.cat(lows), torch.cat(ious)


__all__ = ["CHUNK_PROMPTS", "decode_low_res"]

"""The shared-embedding mask decoder (segmenters/decoder.py) and the low-resolution decode of
segmenters/base.py, on the real LiteMedSAM weights and the synthetic disk image of conftest:
the same logits and IoU as segment-anything's own ``MaskDecoder`` (which copies the embedding per
prompt), and masks made from the low-resolution logits equal to ``segment_batch``'s."""
from __future__ import annotations

import numpy as np
import torch

from cam2seg_utils.segmenters.decoder import decode_low_res

BOXES = np.array([[95.0, 55.0, 205.0, 165.0], [0.0, 0.0, 319.0, 239.0], [120.0, 80.0, 180.0, 140.0],
                  [10.0, 20.0, 60.0, 200.0], [95.0, 55.0, 205.0, 165.0]])


def test_shared_embedding_decoder_equals_segment_anything(embedded_disk, litemedsam):
    _, _, emb = embedded_disk
    seg = litemedsam
    box_t, pts_t, lab_t, _ = seg.prompt_tensors(emb.original_size, BOXES,
                                                np.tile([[150.0, 110.0], [30.0, 30.0]], (len(BOXES), 1, 1)),
                                                np.tile([1, 0], (len(BOXES), 1)))
    with torch.inference_mode():
        for points in (None, (pts_t, lab_t)):
            sparse, dense = seg.prompt_encoder(points=points, boxes=box_t[:, None, :], masks=None)
            pe = seg.prompt_encoder.get_dense_pe()
            ref, ref_iou = seg.mask_decoder(image_embeddings=emb.features, image_pe=pe, sparse_prompt_embeddings=sparse,
                                            dense_prompt_embeddings=dense, multimask_output=False)
            for chunk in (1, 2, 4, 16):
                low, iou = decode_low_res(seg.mask_decoder, emb.features, pe, sparse, dense, chunk=chunk)
                assert low.shape == ref.shape == (len(BOXES), 1, 256, 256) and iou.shape == ref_iou.shape
                torch.testing.assert_close(low, ref, rtol=1e-5, atol=1e-4)
                torch.testing.assert_close(iou, ref_iou, rtol=1e-5, atol=1e-5)
                assert torch.equal(low > 0, ref > 0)
        # a mask prompt: the dense embedding differs per prompt, added to the image per prompt
        masks = torch.as_tensor(np.stack([np.full((256, 256), v, np.float32) for v in (-2.0, 3.0)]))[:, None]
        sparse, dense = seg.prompt_encoder(points=None, boxes=box_t[:2, None, :], masks=masks)
        ref, ref_iou = seg.mask_decoder(image_embeddings=emb.features, image_pe=pe, sparse_prompt_embeddings=sparse,
                                        dense_prompt_embeddings=dense, multimask_output=False)
        low, iou = decode_low_res(seg.mask_decoder, emb.features, pe, sparse, dense)
        torch.testing.assert_close(low, ref, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(iou, ref_iou, rtol=1e-5, atol=1e-5)


def test_low_res_decode_upscaled_equals_full_decode(embedded_disk, litemedsam):
    """What a candidate keeps (logits at the decoder's resolution), brought to the image's size
    afterwards, is the mask ``segment_batch`` and ``segment`` give."""
    _, _, emb = embedded_disk
    low, iou = litemedsam.decode_low_res(emb, BOXES)
    assert low.shape == (len(BOXES), 256, 256) and low.dtype == np.float32 and iou.shape == (len(BOXES),)
    full = litemedsam.segment_batch(emb, BOXES)
    masks = litemedsam.upscale_masks(low, emb)
    assert masks.shape == (len(BOXES),) + emb.original_size and masks.dtype == bool
    for i, r in enumerate(full):
        np.testing.assert_array_equal(masks[i], r.mask)
        np.testing.assert_array_equal(low[i], r.low_res_logits)
        assert iou[i] == np.float32(r.predicted_iou)
        one = litemedsam.segment(emb, box=BOXES[i])
        np.testing.assert_array_equal(one.mask, r.mask)
        np.testing.assert_allclose(one.low_res_logits, r.low_res_logits, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(masks[0], masks[-1])          # the same box twice: the same mask

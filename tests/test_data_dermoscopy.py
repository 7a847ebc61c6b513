"""The synthetic dermoscopy renderer (``data/dermoscopy.py``): what the images contain, that the
distractors never change the mask, and that the melanoma look is learnable but not trivially."""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

import cam2seg_utils.data.dermoscopy as dermoscopy
from cam2seg_utils.data.dermoscopy import render_dermoscopy


def test_distractors_do_not_change_the_mask(monkeypatch):
    img1, mask1, _ = render_dermoscopy(np.random.default_rng(5), 120, 160, True)
    monkeypatch.setattr(dermoscopy, "_hairs", lambda rng, h, w, *a: np.zeros((h, w), np.float32))
    monkeypatch.setattr(dermoscopy, "_ruler", lambda rng, h, w: np.zeros((h, w), np.float32))
    img2, mask2, _ = render_dermoscopy(np.random.default_rng(5), 120, 160, True)
    np.testing.assert_array_equal(mask1, mask2)


def test_images_look_like_dermoscopy():
    """Over a batch: the lesion is darker than the skin around it, skin is skin-coloured
    (R > G > B), most images have the dark round field-of-view corners, some have hairs."""
    dark_corners = with_hair = 0
    n = 16
    for i in range(n):
        rng = np.random.default_rng(100 + i)
        img, mask, _ = render_dermoscopy(rng, 96, 128, i % 2 == 0)
        f = img.astype(np.float64)
        lum = f.mean(2)
        ys, xs = np.nonzero(mask)
        cy, cx = ys.mean(), xs.mean()
        yy, xx = np.mgrid[0:96, 0:128]
        ring = (~mask) & (np.hypot(yy - cy, xx - cx) < 45)
        assert lum[mask].mean() < lum[ring].mean() - 15, i
        skin = f[ring].mean(0)
        assert skin[0] > skin[1] > skin[2], (i, skin)
        corners = np.concatenate([lum[:4, :4].ravel(), lum[-4:, -4:].ravel()])
        dark_corners += corners.mean() < 50
        # hairs: thin dark lines outside the lesion -> pixels much darker than their neighbourhood
        local = ndimage.median_filter(lum, size=7)
        with_hair += ((local - lum)[ring] > 40).sum() > 10
    assert dark_corners >= n // 3
    assert with_hair >= 3


def test_melanoma_label_is_learnable_but_not_trivial():
    """ABCD features drive the label: lesion size (D) alone ranks melanoma above benign well
    (AUC clearly > 0.5), but overlapping distributions keep it far from perfect."""
    areas, labels = [], []
    for i in range(60):
        rng = np.random.default_rng(1000 + i)
        mel = i % 2 == 0
        _, mask, traits = render_dermoscopy(rng, 72, 96, mel)
        areas.append(mask.mean())
        labels.append(int(mel))
        assert traits.malignant_look == mel
    auc = roc_auc_score(labels, areas)
    assert 0.65 < auc < 0.95, auc

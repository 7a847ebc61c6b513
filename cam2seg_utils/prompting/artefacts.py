"""Dermoscopy acquisition artefacts a lesion prompt must never land on: found from colour alone.

On the official ISIC 2017 validation split, 16 of the 17 images where the previous default
prompt missed the lesion completely (IoU < 0.01) had picked an artefact instead: a **coloured
calibration sticker** cut by the image edge (blue, green or orange discs, 11 images), **purple
skin-marker ink** (3) or a dark vignette corner (2; handled by the field of view in
:mod:`.prior`). Stickers and ink are darker than the skin *and* far from it in colour, so the
image-only prior's channels rated them more lesion-like than the lesion itself.

No lesion has those colours. Measured on the lesion pixels of 400 ground-truth masks of the
ISIC 2017 *training* split (every 5th image; CIE Lab, hue = ``atan2(b*, a*)`` in degrees,
chroma ``C* = hypot(a*, b*)``):

* lesions are red-brown-yellow: 95 % of their pixels have a hue in ``[0, 90)`` degrees; for
  99 % of the lesions **no** pixel is green, cyan or blue with ``C* > 20`` (hue in
  ``[100, 280)``), and at most 0.6 % of pixels are violet/purple with ``C* > 25`` (hue in
  ``[280, 345)``);
* saturated lesions are red-brown, orange stickers yellow-orange: of the lesion pixels with
  ``C* > 52``, 1.1 % have a hue above 58 degrees; of an orange sticker's, 85-98 %.

So a pixel is an artefact candidate when its colour is in one of :data:`OFF_GAMUT`: green-cyan-
blue with ``C* > 20``, violet-purple with ``C* > 25``, or saturated yellow-orange (hue in
``[58, 100)`` with ``C* > 52``). Single pixels of those colours occur in lesions and skin
(a vessel, a reflection's fringe), so only solid blobs count: the candidate pixels are opened
with a disc of radius ``side / 128`` and components smaller than :data:`MIN_ARTEFACT_FRACTION`
of the image are dropped. A colour cast is not an artefact: some dermatoscopes render the
whole skin bluish (hue ~ 250, ``C* > 20``), so a blob whose median colour lies within
:data:`SKIN_CAST_DELTA` (``Δa*b*``) of the image's median colour (the skin, which covers most
of a dermoscopy image) is dropped too. The survivors are grown by the opening's radius to cover
their anti-aliased rims. The thresholds are colour statistics of training masks (above), fixed here,
not fitted to any validation image.

Everything runs at the prior's working resolution (longest side 256, :mod:`.prior`).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from .geometry import disk

#: ``(hue from, hue to, chroma above)``: colours off the lesion gamut (hue in degrees, CIE Lab
#: ``atan2(b*, a*)``): saturated yellow-orange (stickers), green-cyan-blue (stickers), violet-
#: purple (skin-marker ink).
OFF_GAMUT: tuple[tuple[float, float, float], ...] = ((58.0, 100.0, 52.0), (100.0, 280.0, 20.0),
                                                     (280.0, 345.0, 25.0))
#: Blobs of artefact colour smaller than this fraction of the image are ignored.
MIN_ARTEFACT_FRACTION = 0.002
#: A blob whose median ``(a*, b*)`` is closer than this to the image's median is a colour cast
#: of the skin, not an artefact.
SKIN_CAST_DELTA = 15.0


def hue_chroma(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(hue in degrees [0, 360), chroma)`` of a CIE Lab image ``(h, w, 3)`` (L*, a*, b*)."""
    a, b = lab[..., 1], lab[..., 2]
    return np.degrees(np.arctan2(b, a)) % 360.0, np.hypot(a, b)


def artefact_colour(lab: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: pixels whose colour no lesion has (:data:`OFF_GAMUT`), before the blob
    filter of :func:`artefact_map`."""
    hue, chroma = hue_chroma(lab)
    out = np.zeros(lab.shape[:2], dtype=bool)
    for lo, hi, c_min in OFF_GAMUT:
        out |= (hue >= lo) & (hue < hi) & (chroma > c_min)
    return out


def artefact_map(lab: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool map of artefact blobs (stickers, ink) of a working-resolution CIE Lab image.

    See the module docstring for the rule and where its thresholds come from. An image without
    artefacts gives an all-False map.
    """
    h, w = lab.shape[:2]
    radius = max(1, int(round(max(h, w) / 128)))
    disc = disk(radius)
    solid = ndimage.binary_opening(artefact_colour(lab), structure=disc)
    labels, n = ndimage.label(solid)
    if n == 0:
        return np.zeros((h, w), dtype=bool)
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    skin_ab = np.median(lab[..., 1:].reshape(-1, 2), axis=0)
    keep = [k + 1 for k in range(n) if sizes[k] >= MIN_ARTEFACT_FRACTION * h * w
            and np.hypot(*(np.median(lab[..., 1:][labels == k + 1], axis=0) - skin_ab)) >= SKIN_CAST_DELTA]
    if not keep:
        return np.zeros((h, w), dtype=bool)
    return ndimage.binary_dilation(np.isin(labels, keep), structure=disc)


__all__ = ["OFF_GAMUT", "MIN_ARTEFACT_FRACTION", "SKIN_CAST_DELTA", "hue_chroma", "artefact_colour",
           "artefact_map"]

"""prompting/artefacts.py: stickers and ink found from colour alone, on drawn and on real images."""
from __future__ import annotations

import numpy as np
import pytest

from cam2seg_utils.prompting.artefacts import artefact_colour, artefact_map, hue_chroma
from cam2seg_utils.prompting.prior import compute_prior, to_lab


def _skin(h=128, w=128, rgb=(214, 170, 150)):
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


def _disc(h, w, cx, cy, r):
    yy, xx = np.mgrid[0:h, 0:w]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_hue_and_chroma_by_hand():
    lab = np.array([[[50.0, 30.0, 40.0], [50.0, 0.0, -20.0]]])
    hue, chroma = hue_chroma(lab)
    assert chroma[0, 0] == pytest.approx(50.0) and hue[0, 0] == pytest.approx(np.degrees(np.arctan2(40, 30)))
    assert chroma[0, 1] == pytest.approx(20.0) and hue[0, 1] == pytest.approx(270.0)


@pytest.mark.parametrize("rgb,name", [((30, 140, 210), "blue sticker"), ((60, 170, 70), "green sticker"),
                                      ((240, 140, 30), "orange sticker"), ((110, 50, 150), "purple ink")])
def test_a_disc_of_sticker_colour_at_the_edge_is_an_artefact_and_the_brown_lesion_is_not(rgb, name):
    image = _skin()
    lesion = _disc(128, 128, 64, 64, 14)
    sticker = _disc(128, 128, 128, 40, 30)
    image[lesion] = (120, 75, 50)
    image[sticker] = rgb
    art = artefact_map(to_lab(image / 255.0))
    assert art[sticker].mean() > 0.95, name
    assert not art[lesion].any(), name


def test_dark_brown_and_saturated_red_brown_lesions_are_not_artefacts():
    for lesion_rgb in [(60, 35, 25), (150, 60, 30), (90, 60, 70)]:  # dark brown, red-brown, grey-violet-brown
        image = _skin()
        lesion = _disc(128, 128, 64, 64, 30)
        image[lesion] = lesion_rgb
        assert not artefact_map(to_lab(image / 255.0)).any(), lesion_rgb


def test_a_bluish_colour_cast_of_the_whole_skin_is_not_an_artefact():
    image = _skin(rgb=(160, 185, 220))  # bluish white balance: hue ~ 260, chroma > 20
    assert artefact_colour(to_lab(image / 255.0)).all()  # every pixel is off-hue ...
    image[_disc(128, 128, 64, 64, 20)] = (110, 80, 70)
    assert not artefact_map(to_lab(image / 255.0)).any()  # ... but it is the skin: no artefact


def test_specks_of_artefact_colour_are_ignored():
    image = _skin()
    image[10:12, 10:12] = (30, 140, 210)  # 4 pixels: a vessel's fringe, a speck of ink
    assert not artefact_map(to_lab(image / 255.0)).any()


def test_the_prior_keeps_artefacts_out_of_its_regions():
    image = _skin(160, 160)
    lesion = _disc(160, 160, 80, 80, 16)
    sticker = _disc(160, 160, 160, 80, 45)  # a big, darker-than-skin blue disc cut by the edge
    image[lesion] = (125, 80, 55)
    image[sticker] = (20, 100, 170)
    prior = compute_prior(image)
    assert prior.artefacts[sticker].mean() > 0.95
    assert prior.regions, "the lesion must still be found"
    for region in prior.regions:
        assert not (region.mask & sticker).any(), region.source
    assert any((r.mask & lesion).sum() / (r.mask | lesion).sum() > 0.7 for r in prior.regions)


# ------------------------------------------------------------------------------------------
# real ISIC 2017 validation images (skipped without ../shared/isic2017)
# ------------------------------------------------------------------------------------------

#: Official validation images with a calibration sticker (blue, orange, green) or skin-marker
#: ink beside a brown lesion; the previous default prompt chose the artefact on each (IoU 0.000).
ARTEFACT_IDS = ("ISIC_0001769", "ISIC_0006651", "ISIC_0008025", "ISIC_0013527")


@pytest.mark.isic
def test_real_stickers_and_ink_are_found_and_the_lesions_are_not(isic_root):
    from cam2seg_utils.data.isic import ISICDataset

    ds = ISICDataset(isic_root, split="Validation")
    for image_id in ARTEFACT_IDS:
        s = ds.load(image_id)
        art = artefact_map(to_lab(s.image / 255.0))
        assert art.mean() > 0.01, image_id                       # something was found ...
        assert art[s.mask].mean() < 0.01, image_id               # ... and it is not the lesion

"""The demo's uploads (cam2seg_utils.demo.upload): refusals that name the file, RGBA and EXIF handled."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cam2seg_utils.demo.upload import ImageRejected, load_image_file, redact_paths


def test_load_image_file_rejections(tmp_path):
    from conftest import synthetic_disk_image

    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    with pytest.raises(ImageRejected, match="notes.png: not a readable image"):
        load_image_file(text)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageRejected, match="empty.jpg: the file is empty"):
        load_image_file(empty)
    image, _ = synthetic_disk_image()
    good = tmp_path / "lesion.png"
    Image.fromarray(image).save(good)
    with pytest.raises(ImageRejected, match="lesion.png: the file is .* MB; the limit is"):
        load_image_file(good, max_bytes=1000)
    with pytest.raises(ImageRejected, match="upload.png: 320x240 pixels is more than the limit"):
        load_image_file(good, max_pixels=10_000, display_name="upload.png")
    tiny = tmp_path / "tiny.png"
    Image.fromarray(image[:8, :8]).save(tiny)
    with pytest.raises(ImageRejected, match="too small"):
        load_image_file(tiny)
    np.testing.assert_array_equal(load_image_file(good), image)
    rgba = tmp_path / "rgba.png"
    Image.fromarray(np.dstack([image, np.full(image.shape[:2], 255, np.uint8)])).save(rgba)
    np.testing.assert_array_equal(load_image_file(rgba), image)


def test_messages_hide_server_paths(tmp_path):
    upload = tmp_path / "gradio" / "0123abcd" / "lesion.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"not an image at all")
    with pytest.raises(ImageRejected) as err:
        load_image_file(upload, display_name="lesion.png")
    assert str(err.value).startswith("lesion.png: not a readable image") and str(tmp_path) not in str(err.value)
    msg = redact_paths("medsam_vit_b.pth not found at /home/ana/.cache/cam2seg/medsam_vit_b.pth; "
                       "see https://github.com/bowang-lab/MedSAM (ratio 1/2)")
    assert msg == "medsam_vit_b.pth not found at medsam_vit_b.pth; see https://github.com/bowang-lab/MedSAM (ratio 1/2)"

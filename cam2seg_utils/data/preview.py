"""Contact sheet of samples (image with the ground-truth mask contour) for the book's data page."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from cam2seg_utils.data.isic import Sample, SampleError

__all__ = ["contact_sheet"]


def contact_sheet(
    samples: Iterable[Sample | SampleError],
    ncols: int = 4,
    *,
    tile_inches: float = 2.6,
    contour_color: str = "#00ff66",
    linewidth: float = 1.2,
    show_titles: bool = True,
):
    """A matplotlib ``Figure`` with one tile per sample: the image, the outline of its mask
    (``skimage.measure.find_contours`` at 0.5; contours are (row, col), drawn as x = col,
    y = row) and a title ``<image_id> · melanoma|benign (W×H)``. A :class:`SampleError` gets a
    tile with its message, so a bulk preview shows failures instead of hiding them.
    Images keep their own aspect ratio (no resizing)."""
    import matplotlib.pyplot as plt
    from skimage.measure import find_contours

    items = list(samples)
    if not items:
        raise ValueError("contact_sheet needs at least one sample")
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    ncols = min(ncols, len(items))
    nrows = int(np.ceil(len(items) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(tile_inches * ncols, tile_inches * 0.85 * nrows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, item in zip(axes.ravel(), items):
        if isinstance(item, SampleError):
            ax.text(0.5, 0.5, f"{item.image_id}\n{item.message[:120]}", ha="center", va="center",
                    wrap=True, fontsize=6, color="crimson", transform=ax.transAxes)
            continue
        ax.imshow(item.image)
        for c in find_contours(item.mask.astype(np.float32), 0.5):
            ax.plot(c[:, 1], c[:, 0], color=contour_color, lw=linewidth)
        if show_titles:
            h, w = item.mask.shape
            label = "melanoma" if item.melanoma else "benign"
            ax.set_title(f"{item.image_id} · {label} ({w}×{h})", fontsize=7)
    fig.tight_layout()
    return fig

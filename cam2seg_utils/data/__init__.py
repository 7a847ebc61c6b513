"""Data: the ISIC 2017 loader (real and synthetic share the official layout), the PH2 loader
(an external test set, ``ph2.py``), synthetic images (``dermoscopy.py`` draws one,
``synthetic.py`` writes a data set), downloader and stratified split. See ``isic.py`` for the
ISIC layout and the bad-input rules, ``ph2.py`` for PH2's."""
from cam2seg_utils.data.download import (
    DownloadError,
    UnverifiedDownloadError,
    download_isic2017,
    load_manifest,
)
from cam2seg_utils.data.isic import (
    DataError,
    DataWarning,
    ISICDataset,
    Sample,
    SampleError,
    canonical_split,
    load_image,
    load_mask,
    read_labels,
    split_paths,
)
from cam2seg_utils.data.ph2 import PH2Dataset, read_ph2_table
from cam2seg_utils.data.preview import contact_sheet
from cam2seg_utils.data.split import stratified_split
from cam2seg_utils.data.dermoscopy import render_dermoscopy
from cam2seg_utils.data.synthetic import generate_synthetic

__all__ = [
    "ISICDataset",
    "PH2Dataset",
    "read_ph2_table",
    "Sample",
    "SampleError",
    "DataError",
    "DataWarning",
    "DownloadError",
    "UnverifiedDownloadError",
    "generate_synthetic",
    "render_dermoscopy",
    "download_isic2017",
    "load_manifest",
    "stratified_split",
    "contact_sheet",
    "canonical_split",
    "split_paths",
    "read_labels",
    "load_image",
    "load_mask",
]

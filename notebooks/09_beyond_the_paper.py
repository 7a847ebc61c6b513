# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 09 · Beyond the paper: prompts without ground truth
#
# The paper's pipeline loses almost everything in the **prompt**: the segmenter is good (see the
# ground-truth box row), but Algorithm 1's percentile box of an ImageNet CAM barely beats a box
# that ignores the classifier. This chapter compares Algorithm 1 with prompting strategies that
# never read the ground truth (`cam2seg_utils.prompting`, one module each):
#
# | strategy | what it does |
# |---|---|
# | `algorithm1` | the paper's percentile box of one CAM (the baseline) |
# | `component` | box of the hot connected component with the most CAM mass |
# | `refine` | Algorithm 1's box, then the tight box of each mask until stable (≤ 3 rounds) |
# | `cam-ensemble` | Algorithm 1 on the mean of the normalised heatmaps |
# | `candidates` | **the default**: a CAM percentile ladder (p30-p90, whole map and hottest component, Grad-CAM and Grad-CAM++) plus the image boxes of `image-prior`, decoded in one batch (≤ 64 prompts), ranked by GT-free features |
# | `prior-cam` | the image boxes only, ranked with the CAM terms of the weight set |
# | `image-prior` | floor: dark / pigmented regions of the image (stickers and ink masked out), the same grown by 15 %, and centred boxes, ranked **without** the CAM: `candidates` minus `image-prior` is what the CAM adds |
# | `whole-image`, `centred-box` | floors: fixed boxes, no classifier |
# | `oracle-gt-box` | the ground truth's tight box: the ceiling of box prompting (reads ground truth) |
# | `oracle-candidates` | the best box of the default's own candidate set, by ground truth: the ceiling of its selection (reads ground truth) |
#
# The ranked strategies score each candidate mask with the **a-priori weight set**
# (`cam2seg_utils/prompting/weights.py`, `k_masks = 0`): the segmenter's predicted IoU (+1),
# pigment contrast with the surround (+1), closeness to the image centre (+1), and against
# touching the border ({term}`border`), lying outside the dermatoscope's field of view
# ({term}`outside_fov`, the unlit vignette) and coloured artefacts ({term}`artefact`) (-1 each).
# No weight is fitted;
# which features carry a sign was chosen on the official validation split (150 masks), so the
# numbers of that split are the optimistic ones. Every number below names its images; each
# strategy is also reported on small lesions (< 10 % of the image) and lesions touching the border.

# %% tags=["parameters", "hide-input"]
# Papermill parameters. book/build.py writes the common ones in above this page's own when it
# generates the notebook: `profile = "embedded"`, then `dataset`, `data_root`, `device`, `models`,
# `cams`, `n_images`, `percentile`, `num_points`, `amplification`, `epochs`, `patience`, `seed`,
# `output_dir`, all None: the profile's value (cam2seg_utils.report.notebook.NOTEBOOK_PARAMETERS).
# `published`: a published snapshot folder (results/published/<profile>) to render instead of running.
published = None

# %% tags=["hide-input"]
from cam2seg_utils.report import notebook as nb
from cam2seg_utils.report import headline, label_efficiency, selection, strategies

cfg = nb.notebook_config(globals())
grid = nb.grid_page(cfg)
table = strategies.summary_table(grid, cfg)

# %% [markdown]
# ## The headline: every kind of prompt on the same images
#
# Mean IoU with 95 % bootstrap CIs per setting, the small-lesion and border slices, the images
# with IoU < 0.01 (misses), and how many ground-truth masks tuned each row. Oracle rows read the
# ground truth: they are references, never results.

# %% tags=["hide-input"]
headline.show_headline(grid, cfg)

# %% [markdown]
# ## Strategies, all images and the hard slices
#
# Mean IoU and Dice with 95 % bootstrap CIs; `n_zero_iou` = images with IoU exactly 0
# ({term}`zero-IoU images <n_zero_iou>`; the headline's {term}`misses <miss>` count IoU < 0.01,
# so they can be more); `delta_iou` and `p_vs_reference` = paired difference and Wilcoxon test
# against `algorithm1` with Grad-CAM on the same images. `uses_ground_truth` marks the
# {term}`oracle` rows. The figure "IoU per image, per strategy" below says it at a glance; the
# two long tables (every setting × strategy × CAM × slice) are folded: open them with the
# button.

# %% tags=["hide-input", "hide-output"]
strategies.show_tables(table)

# %% [markdown]
# ## Lost in generation or in selection?
#
# For the default, per setting and slice: the ground-truth box (the ceiling of box prompting), the
# best box of the default's own candidate set (`oracle-candidates`), the box it chose, and the
# whole-image box, on the same images. `lost_in_generation` = ceiling − best candidate: what no
# ranking could win back; `lost_in_selection` = best candidate − chosen: what a better ranking
# could.

# %% tags=["hide-input"]
selection.show_selection(grid, cfg)

# %% [markdown]
# ## Does the CAM earn its keep?
#
# First the default against itself without the classifier: `candidates` minus `image-prior` per
# image (the same candidate generator and ranking, without the CAM's boxes), with the paired 95 %
# CI and Wilcoxon p-value per setting and slice. Then the best strategy that uses the classifier
# against the best floor that does not, per slice.

# %% tags=["hide-input"]
selection.show_cam_contribution(grid, cfg)

# %% tags=["hide-input"]
strategies.show_verdict(table, grid)

# %% [markdown]
# ## Label efficiency: what k ground-truth masks buy
#
# `cam2seg tune-strategies` fits the ranking weights (a softmax-relaxed "top candidate's IoU",
# pulled towards the a-priori signs) on k masks of the **training** split (the images fine-tuning
# holds out for early stopping; five seeded draws per k) and scores each fit on the evaluation
# split, never on what it was fitted on. k = 0 is the a-priori set the default uses. The dashed
# lines are supervised references on **other data**: they place the curve, they are not
# comparable numbers.

# %% tags=["hide-input"]
label_efficiency.show_curve(cfg.output_dir, grid)

# %% [markdown]
# ## IoU per image, per strategy

# %% tags=["hide-input"]
strategies.show_iou_plot(grid, cfg)

# %% [markdown]
# ## Worked examples: where the default strategy wins and fails
#
# Ground truth in green, the final mask in red, the last box sent to the segmenter in yellow.

# %% tags=["hide-input"]
strategies.show_examples(cfg, grid)

# %% [markdown]
# ## How the parameters were chosen
#
# The defaults of these strategies were chosen on real ISIC 2017 images (the official validation
# split, and an earlier round on a training-split hold-out); that record, with its tables, is the
# static page {doc}`/book/strategy_study`, apart from this page so that it never shows under a
# synthetic run's provenance box.
# How well each GT-free cue, and each ranking (consensus, self-trained, fitted on k masks,
# cross-validated), chooses among the default's own candidates on the official validation split is
# the record {doc}`/book/selection_study`.

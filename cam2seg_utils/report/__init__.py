"""The book's layer: one module per artefact of the paper, each the one home of its tables and
figures, and the glue every page shares. Each notebook in ``notebooks/`` calls the module of its
own artefact (and :mod:`.notebook` to open the page); no notebook computes a table, a verdict or
a figure itself.

================================  ==========================================================  ===========
module                            what                                                        notebook
================================  ==========================================================  ===========
:mod:`.method`                    Algorithm 1 step by step on one image (Fig. 1's pipeline)   00
:mod:`.data`                      the splits and contact sheets of the images                 01
:mod:`.fig4`                      Fig. 4: classifier accuracy, fine-tuning curves             02
:mod:`.table1`                    Table 1 (noisy masks) with Fig. 2 (every CAM's heatmap)     03
:mod:`.fig5`                      Fig. 5: model x CAM IoU, per-pair tables, prompt variants   04
:mod:`.table2`                    Table 2 (best CAM per image) with Fig. 6 (IoU histograms)   05
:mod:`.baselines`                 the segmenter's ground-truth-prompt and whole-image rows    06
:mod:`.fig7`                      Fig. 7: good / median / failed cases, recomputed            07
:mod:`.comparison`                our numbers beside the paper's, row by row                  08
:mod:`.strategies`                prompting strategies beyond the paper, and the verdict      09
:mod:`.headline`                  the headline table (README, real-data part): every prompt   09
:mod:`.selection`                 lost in generation vs selection; the CAM's contribution      09
:mod:`.label_efficiency`          the default's IoU per k training masks fitting its weights  09
:mod:`.hitl`                      the human in the loop: mIoU per click, NoC, worked example   10
:mod:`.findings`                  the findings page and the README's first lines               findings
:mod:`.heldout`                   the held-out figures file and its table                      findings
:mod:`.glossary`                  the glossary page's terms, links to them                     every page
:mod:`.record_figures`            figures of the record pages' long tables                     records
================================  ==========================================================  ===========

Shared: :mod:`.notebook` (the page's configuration from papermill parameters, display helpers),
:mod:`.steps` (the resumable ``ensure_*`` experiment steps), :mod:`.provenance` (provenance
boxes and published snapshots), :mod:`.tables` (row selection, CI text, paired tests) and
:mod:`.recompute` (which classifier and which pixels a recomputed figure uses).

Every CI shown is :func:`cam2seg_utils.experiments.stats.cell_ci`'s, through the
:mod:`~cam2seg_utils.experiments.summary` tables the CLI writes, so a cell reads the same in the
CSV tables, the README and the book.
"""

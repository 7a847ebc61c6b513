"""cam2seg: class activation maps as prompts for MedSAM (zero-shot skin lesion segmentation)."""
__version__ = "0.1.0"

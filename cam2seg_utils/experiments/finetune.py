"""Fine-tuning binary melanoma classifiers, and classification accuracy (paper Fig. 4).

(One file of just over 500 lines on purpose: the training loop, its early stopping and the
classification table share one protocol and one checkpoint format, read together.)

Protocol (paper, Sec. 4.2: "trained on ISIC 2017 for a maximum of 500 epochs and a patience of
20"): any registry model is built with ``build_classifier(name, weights=init_weights,
num_classes=2)`` (timm ``reset_classifier(2)``: a fresh 2-logit head, classes
``["benign", "melanoma"]``), then trained with

* AdamW (``lr``, ``weight_decay``), constant learning rate;
* class-weighted cross-entropy, weight of class c = ``n_train / (2 * n_c)`` (melanoma is ~19 %
  of ISIC 2017, so unweighted training drifts to "always benign");
* dermoscopy augmentations on ``uint8`` tensors with torchvision ``transforms.v2.functional``:
  horizontal / vertical flips, 90° rotations (a dermoscopy image has no "up"), a small rotation
  (±15°), colour jitter (brightness, contrast, saturation ±10 %, hue ±0.02);
* early stopping on a stratified validation split of the training data
  (``monitor``: ``val_loss`` by default), at most ``epochs`` epochs, ``patience`` epochs without
  improvement;
* AMP on CUDA only (bf16 autocast where supported, else fp16 autocast + ``GradScaler``).

Determinism and resume: every random draw comes from a generator seeded with
:func:`cam2seg_utils.seeding.stable_seed`: the head initialisation (``seed, "init", model``), the
shuffling of epoch ``e`` (a ``torch.Generator`` seeded with ``seed, "shuffle", e``), the
augmentation of image ``i`` in epoch ``e`` (``seed, "augment", e, i``, independent of the worker
that loads it) and dropout / drop-path (torch's global generator, reseeded with ``seed, "epoch",
e`` at the start of each epoch). Hence epoch ``e`` computes the same thing whether the run went
straight through or was killed and resumed. After every epoch ``last.pt`` (model, optimizer,
scaler, epoch, best metric, patience counter, history, RNG states) is written atomically (tmp file
+ ``os.replace``); a run with ``resume=True`` continues after the last completed epoch.
``best.pt`` is a :func:`cam2seg_utils.models.save_checkpoint` file (loadable with
``build_classifier(name, weights=path)``); its ``extra`` records the input size, mean/std, the
epoch and the validation metrics. ``history.csv`` has one row per epoch.

Images are decoded once, resized to the network input size (the same resize as
:meth:`Classifier.preprocess`) and kept in memory as ``uint8`` tensors; augmentation and
normalisation happen per batch.

Zero-shot classification accuracy
---------------------------------
The paper reports a "zero-shot" test accuracy for ImageNet classifiers (Fig. 4) but does not
say how a 1000-class ImageNet model answers a binary melanoma question. We use the most
conservative definition that needs no training: the **frozen ImageNet backbone** (no weight is
updated, no head is trained) embeds every image into its penultimate, globally pooled feature
vector; the two class centroids (mean of the L2-normalised features of the benign and of the
melanoma **training** images) are computed once, and a test image is assigned to the nearest
centroid by cosine similarity (:func:`zero_shot_centroid_eval`). This "nearest class mean"
classifier has no trainable parameters and no hyper-parameters, so it measures only how well
ImageNet features separate the classes; it does use the training labels (as any binary
evaluation of an ImageNet model must, to map features to the two classes). The
**majority-class baseline** (always predict the training split's majority class; accuracy =
share of that class in the test set, balanced accuracy 0.5) is reported beside it, because with
~81 % benign images an accuracy near 0.8 says nothing on its own. Balanced accuracy and ROC-AUC
are reported for every setting for the same reason.
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from ..atomic import atomic_open, progress_bar
from ..data.isic import DataError
from ..seeding import stable_seed
from .config import MONITORS   # the early-stopping monitors live with the config field that names one

CLASS_NAMES = ["benign", "melanoma"]
HISTORY_COLUMNS = ["epoch", "train_loss", "val_loss", "val_acc", "val_balanced_acc", "val_auc",
                   "lr", "time_s", "improved"]



# --------------------------------------------------------------------------------------------
# images -> tensors
# --------------------------------------------------------------------------------------------


def _resize_uint8(image: np.ndarray, classifier) -> torch.Tensor:
    """``(H, W, 3)`` uint8 -> ``(3, h, w)`` uint8 at ``classifier.input_size``, with the resize of
    :meth:`Classifier.preprocess` (interpolation + antialias), rounded back to uint8."""
    x = torch.from_numpy(np.array(image, dtype=np.uint8, copy=True)).permute(2, 0, 1)[None].float().div_(255.0)
    h, w = classifier.input_size
    if x.shape[-2:] != (h, w):
        mode = classifier.interpolation if classifier.interpolation in ("bilinear", "bicubic") else "bilinear"
        x = F.interpolate(x, size=(h, w), mode=mode, align_corners=False, antialias=True).clamp_(0, 1)
    return (x[0] * 255.0).round_().to(torch.uint8)


def load_resized(dataset, ids: Sequence[str], classifier, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode ``ids`` and resize them: ``(N, 3, h, w)`` uint8 images and ``(N,)`` int64 labels."""
    images, labels = [], []
    for image_id in progress_bar(ids, progress, desc="load images", unit="img"):
        s = dataset.load(image_id)
        images.append(_resize_uint8(s.image, classifier))
        labels.append(int(s.melanoma))
    if not images:
        raise ValueError("no images to load (empty id list)")
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)


def normalize(batch_u8: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(B, 3, h, w)`` uint8 -> float32 normalised with ``mean`` / ``std`` (on the batch's device)."""
    x = batch_u8.float().div_(255.0)
    m = torch.tensor(mean, dtype=x.dtype, device=x.device)[None, :, None, None]
    s = torch.tensor(std, dtype=x.dtype, device=x.device)[None, :, None, None]
    return (x - m) / s


def augment(image: torch.Tensor, generator: torch.Generator, max_rotation: float = 15.0) -> torch.Tensor:
    """Dermoscopy augmentation of one ``(3, h, w)`` uint8 image; all draws from ``generator``.

    Horizontal and vertical flip (p = 0.5 each), a 90° rotation ``k ~ U{0..3}`` (square inputs
    only), a rotation by ``U(-max_rotation, max_rotation)`` degrees (bilinear, black corners like
    a dermatoscope's vignette), brightness / contrast / saturation factors ``U(0.9, 1.1)`` and a
    hue shift ``U(-0.02, 0.02)``.
    """
    from torchvision.transforms.v2 import functional as TF

    u = torch.rand(8, generator=generator).tolist()
    x = image
    if u[0] < 0.5:
        x = TF.horizontal_flip(x)
    if u[1] < 0.5:
        x = TF.vertical_flip(x)
    if x.shape[-1] == x.shape[-2]:
        k = int(u[2] * 4) % 4
        if k:
            x = torch.rot90(x, k, dims=(-2, -1))
    angle = (2 * u[3] - 1) * max_rotation
    x = TF.rotate(x, angle, interpolation=TF.InterpolationMode.BILINEAR)
    x = TF.adjust_brightness(x, 0.9 + 0.2 * u[4])
    x = TF.adjust_contrast(x, 0.9 + 0.2 * u[5])
    x = TF.adjust_saturation(x, 0.9 + 0.2 * u[6])
    x = TF.adjust_hue(x, (2 * u[7] - 1) * 0.02)
    return x.contiguous()


class _AugmentedImages(torch.utils.data.Dataset):
    """Index -> (augmented uint8 image, label, index); augmentation seeded per (epoch, image id)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, ids: Sequence[str], seed: int,
                 epoch: int, augment_images: bool = True) -> None:
        self.images, self.labels, self.ids = images, labels, list(ids)
        self.seed, self.epoch, self.augment_images = seed, epoch, augment_images

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int):
        x = self.images[i]
        if self.augment_images:
            g = torch.Generator().manual_seed(stable_seed(self.seed, "augment", self.epoch, self.ids[i]))
            x = augment(x, g)
        return x, self.labels[i]


# --------------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------------


def binary_metrics(labels: np.ndarray, pred: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, ROC-AUC (NaN when the labels hold one class) and the
    confusion matrix ``tn, fp, fn, tp`` (positive = melanoma = 1)."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).astype(int)
    pred = np.asarray(pred).astype(int)
    tp = int(((pred == 1) & (labels == 1)).sum())
    tn = int(((pred == 0) & (labels == 0)).sum())
    fp = int(((pred == 1) & (labels == 0)).sum())
    fn = int(((pred == 0) & (labels == 1)).sum())
    recalls = [r for r in (tp / (tp + fn) if tp + fn else None, tn / (tn + fp) if tn + fp else None)
               if r is not None]
    auc = float(roc_auc_score(labels, score)) if len(np.unique(labels)) == 2 else float("nan")
    return {"n": int(labels.size), "accuracy": float((pred == labels).mean()) if labels.size else float("nan"),
            "balanced_accuracy": float(np.mean(recalls)) if recalls else float("nan"),
            "auc": auc, "tn": tn, "fp": fp, "fn": fn, "tp": tp}


@torch.no_grad()
def _predict_batches(model, images: torch.Tensor, mean, std, device, batch_size: int,
                     amp_dtype=None) -> torch.Tensor:
    """Logits ``(N, C)`` float32 on CPU for ``(N, 3, h, w)`` uint8 images."""
    model.eval()
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = normalize(images[start:start + batch_size].to(device), mean, std)
        with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            out.append(model(x).float().cpu())
    return torch.cat(out)


def evaluate_classifier(classifier, dataset, ids: Sequence[str], batch_size: int = 32,
                        progress: bool = False) -> dict[str, float]:
    """Test metrics of a 2-class classifier (``binary_metrics`` with melanoma probability as the
    score) on ``ids`` of ``dataset``."""
    if classifier.num_classes != 2:
        raise ValueError(f"evaluate_classifier needs a 2-class classifier, got {classifier.num_classes} classes; "
                         "use zero_shot_centroid_eval for ImageNet models")
    images, labels = load_resized(dataset, ids, classifier, progress)
    logits = _predict_batches(classifier.model, images, classifier.mean, classifier.std,
                              torch.device(classifier.device), batch_size)
    prob = torch.softmax(logits, dim=1)[:, 1].numpy()
    return binary_metrics(labels.numpy(), logits.argmax(1).numpy(), prob)


@torch.no_grad()
def pooled_features(classifier, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
    """Penultimate (globally pooled, pre-logits) features ``(N, C)`` of ``(N, 3, h, w)`` uint8
    images, via timm's ``forward_features`` + ``forward_head(pre_logits=True)``."""
    model = classifier.model
    model.eval()
    device = torch.device(classifier.device)
    out = []
    for start in range(0, images.shape[0], batch_size):
        x = normalize(images[start:start + batch_size].to(device), classifier.mean, classifier.std)
        f = model.forward_head(model.forward_features(x), pre_logits=True)
        out.append(f.float().flatten(1).cpu())
    return torch.cat(out)


def zero_shot_centroid_eval(classifier, train_dataset, train_ids: Sequence[str], test_dataset,
                            test_ids: Sequence[str], batch_size: int = 32,
                            progress: bool = False) -> dict[str, Any]:
    """"Zero-shot" binary accuracy of a frozen ImageNet classifier (see the module docstring):
    nearest class centroid (cosine) on pooled features, centroids from ``train_ids``.

    Returns ``binary_metrics`` (score = cosine similarity to the melanoma centroid minus that to
    the benign one) plus ``majority_*`` entries: the majority-class baseline's accuracy,
    balanced accuracy (0.5) and the majority class.
    """
    tr_img, tr_lab = load_resized(train_dataset, train_ids, classifier, progress)
    te_img, te_lab = load_resized(test_dataset, test_ids, classifier, progress)
    tr = F.normalize(pooled_features(classifier, tr_img, batch_size), dim=1)
    te = F.normalize(pooled_features(classifier, te_img, batch_size), dim=1)
    if len(torch.unique(tr_lab)) < 2:
        raise ValueError("the training ids hold a single class; a centroid per class is needed")
    cents = F.normalize(torch.stack([tr[tr_lab == c].mean(0) for c in (0, 1)]), dim=1)
    sims = te @ cents.T                                    # (N, 2) cosine similarities
    pred = sims.argmax(1).numpy()
    score = (sims[:, 1] - sims[:, 0]).numpy()
    out: dict[str, Any] = binary_metrics(te_lab.numpy(), pred, score)
    majority = int(np.bincount(tr_lab.numpy(), minlength=2).argmax())
    maj = binary_metrics(te_lab.numpy(), np.full(len(te_lab), majority), np.zeros(len(te_lab)))
    out.update({"majority_class": majority, "majority_accuracy": maj["accuracy"],
                "majority_balanced_accuracy": maj["balanced_accuracy"]})
    return out


# --------------------------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------------------------


@dataclass
class FinetuneResult:
    best_checkpoint: Path
    last_checkpoint: Path
    history: pd.DataFrame
    best_epoch: int
    best_metric: float
    epochs_run: int          # epochs computed by this call (0 when everything was done already)
    stopped_early: bool


def _atomic_torch_save(obj: Any, path: Path) -> None:
    with atomic_open(path, "wb") as fh:
        torch.save(obj, fh)


def _atomic_write_text(text: str, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _amp_dtype(device: torch.device, amp: bool):
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def finetune(model_name: str, dataset, train_ids: Sequence[str], val_ids: Sequence[str],
             out_dir: str | os.PathLike, *, init_weights: str = "embedded", epochs: int = 500,
             patience: int = 20, batch_size: int = 16, lr: float = 1e-4, weight_decay: float = 1e-2,
             input_size: int | None = None, monitor: str = "val_loss", device: str = "cpu",
             amp: bool = True, num_workers: int = 0, seed: int = 0, resume: bool = True,
             progress: bool = True) -> FinetuneResult:
    """Fine-tune ``model_name`` as a benign/melanoma classifier (protocol: module docstring).

    ``dataset``: an :class:`~cam2seg_utils.data.isic.ISICDataset` holding ``train_ids`` and
    ``val_ids``. Writes ``out_dir/last.pt`` (resume state), ``out_dir/best.pt`` (best epoch,
    ``save_checkpoint`` format) and ``out_dir/history.csv``. ``epochs`` is the total number of
    epochs: with ``resume=True`` and a ``last.pt`` of an identical run, only the missing epochs
    run (none after early stopping). ``resume=False`` starts over.
    """
    from ..models import build_classifier, save_checkpoint

    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {list(MONITORS)}, got {monitor!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    last_path, best_path, hist_path = out / "last.pt", out / "best.pt", out / "history.csv"
    dev = torch.device(device)
    train_ids, val_ids = list(train_ids), list(val_ids)
    if not train_ids or not val_ids:
        raise ValueError(f"fine-tuning needs training and validation images, got {len(train_ids)} / {len(val_ids)}")
    run_identity = {"model": model_name, "init_weights": init_weights, "seed": seed, "lr": lr,
                    "weight_decay": weight_decay, "batch_size": batch_size, "input_size": input_size,
                    "monitor": monitor, "train_ids": train_ids, "val_ids": val_ids}

    torch.manual_seed(stable_seed(seed, "init", model_name))
    clf = build_classifier(model_name, weights=init_weights, device=dev, num_classes=2)
    clf.class_names = list(CLASS_NAMES)
    if input_size is not None:
        clf.input_size = (int(input_size), int(input_size))
    model = clf.model

    labels_train = torch.tensor([int(dataset.labels.at[i, "melanoma"]) for i in train_ids], dtype=torch.int64)
    counts = torch.bincount(labels_train, minlength=2).double()
    if (counts == 0).any():
        raise ValueError(f"the training split lacks a class (counts benign/melanoma = {counts.tolist()})")
    class_weights = (counts.sum() / (2 * counts)).float().to(dev)

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    amp_dtype = _amp_dtype(dev, amp)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    mode = MONITORS[monitor]

    start_epoch, best_metric, best_epoch, bad_epochs = 1, math.inf if mode == "min" else -math.inf, 0, 0
    history: list[dict[str, Any]] = []
    stopped = False
    if resume and last_path.is_file():
        state = load_resume_state(last_path)
        if state.get("run_identity") != json.loads(json.dumps(run_identity)):
            raise ValueError(f"{last_path} belongs to a different fine-tuning run (model, data split or "
                             "hyper-parameters differ); use resume=False or another out_dir")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        start_epoch = int(state["epoch"]) + 1
        best_metric, best_epoch = float(state["best_metric"]), int(state["best_epoch"])
        bad_epochs, stopped = int(state["bad_epochs"]), bool(state["stopped"])
        history = [dict(r) for r in state["history"]]
        torch.set_rng_state(state["rng_torch"])

    epochs_run = 0
    if not stopped and start_epoch <= epochs:   # decode images only when there is work left
        tr_img, tr_lab = load_resized(dataset, train_ids, clf, progress)
        va_img, va_lab = load_resized(dataset, val_ids, clf, progress)
    for epoch in range(start_epoch, epochs + 1):
        if stopped:
            break
        t0 = time.perf_counter()
        torch.manual_seed(stable_seed(seed, "epoch", epoch))  # dropout / drop-path of this epoch
        loader = torch.utils.data.DataLoader(
            _AugmentedImages(tr_img, tr_lab, train_ids, seed, epoch), batch_size=batch_size, shuffle=True,
            generator=torch.Generator().manual_seed(stable_seed(seed, "shuffle", epoch)),
            num_workers=num_workers, drop_last=len(train_ids) > batch_size and len(train_ids) % batch_size == 1)
        model.train()
        total, n_seen = 0.0, 0
        for x, y in progress_bar(loader, progress, desc=f"{model_name} epoch {epoch}", leave=False):
            x = normalize(x.to(dev), clf.mean, clf.std)
            y = y.to(dev)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                loss = F.cross_entropy(model(x).float(), y, weight=class_weights)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            total += float(loss.detach()) * len(y)
            n_seen += len(y)
        logits = _predict_batches(model, va_img, clf.mean, clf.std, dev, max(batch_size, 32), amp_dtype)
        val_loss = float(F.cross_entropy(logits, va_lab, weight=class_weights.cpu()))
        m = binary_metrics(va_lab.numpy(), logits.argmax(1).numpy(), torch.softmax(logits, 1)[:, 1].numpy())
        row = {"epoch": epoch, "train_loss": total / max(n_seen, 1), "val_loss": val_loss,
               "val_acc": m["accuracy"], "val_balanced_acc": m["balanced_accuracy"], "val_auc": m["auc"],
               "lr": float(optimizer.param_groups[0]["lr"]), "time_s": time.perf_counter() - t0}
        value = row[monitor]
        improved = (value < best_metric) if mode == "min" else (value > best_metric)
        if math.isnan(value):
            improved = False
        row["improved"] = bool(improved)
        if improved:
            best_metric, best_epoch, bad_epochs = float(value), epoch, 0
            save_checkpoint(model, best_path, name=model_name, num_classes=2, class_names=CLASS_NAMES,
                            extra={"input_size": list(clf.input_size), "mean": list(clf.mean),
                                   "std": list(clf.std), "interpolation": clf.interpolation,
                                   "epoch": epoch, "monitor": monitor, "init_weights": init_weights,
                                   "seed": seed, "val_metrics": {k: float(v) for k, v in m.items()}})
        else:
            bad_epochs += 1
        stopped = bad_epochs >= patience
        history.append(row)
        epochs_run += 1
        _atomic_torch_save({
            "run_identity": run_identity, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict(), "epoch": epoch, "best_metric": best_metric,
            "best_epoch": best_epoch, "bad_epochs": bad_epochs, "stopped": stopped, "history": history,
            "rng_torch": torch.get_rng_state(),
        }, last_path)
        _atomic_write_text(pd.DataFrame(history, columns=HISTORY_COLUMNS).to_csv(index=False), hist_path)
    if not best_path.is_file():
        raise RuntimeError(f"fine-tuning {model_name} produced no best checkpoint in {out} (no epoch improved "
                           f"the {monitor}; is it NaN?)")
    return FinetuneResult(best_path, last_path, pd.DataFrame(history, columns=HISTORY_COLUMNS),
                          best_epoch, best_metric, epochs_run, stopped)


RESUME_KEYS = ("run_identity", "model", "optimizer", "scaler", "epoch", "best_metric", "best_epoch",
               "bad_epochs", "stopped", "history", "rng_torch")


def load_resume_state(path: Path) -> dict[str, Any]:
    """Read a ``last.pt`` written by :func:`finetune` (``torch.load(weights_only=True)``: plain
    values and tensors only, nothing that could run code). A file that is not one raises
    :class:`~cam2seg_utils.data.isic.DataError` naming it and how to start over."""
    advice = "delete it or rerun with --no-resume (resume=False) to start this fine-tuning over"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised as DataError; torch's advice to load unsafely is not repeated
        import pickle
        import zipfile

        if not zipfile.is_zipfile(path):   # torch.save always writes a zip archive
            why = "it is corrupt or truncated (not a torch.save archive)"
        elif isinstance(exc, pickle.UnpicklingError):
            why = "it holds objects other than tensors and plain values, which are refused (loading them could run code)"
        else:
            why = f"it is not a readable checkpoint ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
        raise DataError(f"{path}: not a fine-tuning resume state: {why}; {advice}", path=path) from None
    missing = [k for k in RESUME_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise DataError(f"{path}: not a fine-tuning resume state written by cam2seg (lacks {missing}); {advice}",
                        path=path)
    return state


def load_finetuned(model_name: str, path: str | os.PathLike, device: str = "cpu"):
    """``build_classifier(model_name, weights=path)``; the checkpoint's ``extra`` carries the input
    size / mean / std / interpolation fine-tuning used, and ``build_classifier`` applies them."""
    from ..models import build_classifier

    return build_classifier(model_name, weights=str(path), device=device)


# --------------------------------------------------------------------------------------------
# config-driven entry point (CLI `finetune`)
# --------------------------------------------------------------------------------------------


def run_finetune(config, resume: bool = True, evaluate: bool = True) -> pd.DataFrame:
    """Fine-tune every model of ``config`` and evaluate classification on the test ids.

    Returns (and writes to ``<output_dir>/classification.csv``) one row per model × setting:
    ``fine-tuned`` (the best checkpoint), ``zero-shot (nearest centroid)`` and
    ``majority baseline`` with n, accuracy, balanced_accuracy, auc, tn, fp, fn, tp.
    """
    from ..models import build_classifier
    from .datasets import resolve_splits

    splits = resolve_splits(config)
    rows: list[dict[str, Any]] = []
    for model_name in config.models:
        res = finetune(model_name, splits.train_dataset, splits.train_ids, splits.val_ids,
                       Path(config.checkpoint_dir) / model_name, init_weights=config.finetune_init_weights,
                       epochs=config.epochs, patience=config.patience, batch_size=config.batch_size,
                       lr=config.lr, weight_decay=config.weight_decay, input_size=config.finetune_input_size,
                       monitor=config.monitor, device=config.device, amp=config.amp,
                       num_workers=config.num_workers, seed=config.seed, resume=resume,
                       progress=config.progress)
        if not evaluate:
            continue
        ft = load_finetuned(model_name, res.best_checkpoint, device=config.device)
        m = evaluate_classifier(ft, splits.test_dataset, splits.test_ids, progress=config.progress)
        rows.append({"model": model_name, "setting": "fine-tuned", "best_epoch": res.best_epoch, **m})
        zs = build_classifier(model_name, weights=config.zero_shot_weights, device=config.device)
        z = zero_shot_centroid_eval(zs, splits.train_dataset, splits.train_ids, splits.test_dataset,
                                    splits.test_ids, progress=config.progress)
        base = {k: z[k] for k in ("n", "accuracy", "balanced_accuracy", "auc", "tn", "fp", "fn", "tp")}
        rows.append({"model": model_name, "setting": "zero-shot (nearest centroid)", **base})
        mc = int(z["majority_class"])
        n_pos = base["tp"] + base["fn"]
        n_neg = base["tn"] + base["fp"]
        rows.append({"model": model_name, "setting": "majority baseline", "n": base["n"],
                     "accuracy": z["majority_accuracy"], "balanced_accuracy": z["majority_balanced_accuracy"],
                     "auc": 0.5, "tn": n_neg if mc == 0 else 0, "fp": 0 if mc == 0 else n_neg,
                     "fn": n_pos if mc == 0 else 0, "tp": 0 if mc == 0 else n_pos})
    table = pd.DataFrame(rows)
    if evaluate:
        outp = Path(config.output_dir) / "classification.csv"
        _atomic_write_text(table.to_csv(index=False), outp)
    return table


__all__ = ["CLASS_NAMES", "HISTORY_COLUMNS", "FinetuneResult", "augment", "binary_metrics", "finetune",
           "evaluate_classifier", "zero_shot_centroid_eval", "pooled_features", "load_finetuned",
           "load_resized", "run_finetune", "load_resume_state"]

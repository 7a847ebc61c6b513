"""``python -m cam2seg_utils.demo`` / ``cam2seg-demo``: launch the human-in-the-loop demo."""
from __future__ import annotations

import argparse
import signal
import sys

from .resources import DEFAULT_CLASSIFIER, DEFAULT_CLASSIFIER_WEIGHTS


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cam2seg-demo",
        description="Gradio demo: classifier CAM -> Algorithm 1 prompts -> mask, refined by clicks.")
    p.add_argument("--classifier", default=DEFAULT_CLASSIFIER,
                   help=f"classifier registry / timm name (default {DEFAULT_CLASSIFIER})")
    p.add_argument("--classifier-weights", default=DEFAULT_CLASSIFIER_WEIGHTS,
                   help="'embedded' (tf_efficientnet_lite0 only, offline), 'imagenet' (timm hub) or a "
                        "checkpoint path written by cam2seg (fine-tuned) (default embedded)")
    p.add_argument("--segmenter", default="litemedsam",
                   help="litemedsam (offline default), medsam_vit_b, sam_vit_b, sam_vit_l, sam_vit_h")
    p.add_argument("--segmenter-checkpoint", default=None,
                   help="checkpoint file of the segmenter (e.g. medsam_vit_b.pth); default: shipped / cache")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes it)")
    p.add_argument("--port", type=int, default=None, help="port (default: gradio's, 7860 or the next free)")
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="largest accepted upload (default 20)")
    p.add_argument("--share", action="store_true", help="create a public gradio share link (needs internet)")
    p.add_argument("--no-hub-classifiers", action="store_true",
                   help="offer only the configured and the embedded classifier (no ImageNet hub models)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: torch's choice; 1 is faster on a busy shared machine)")
    p.add_argument("--examples-dir", default=None,
                   help="folder of the synthetic examples (default ~/.cache/cam2seg/demo-examples)")
    return p


_STOPPED_BY: list[int] = []


def _stop_on_sigterm() -> None:
    """SIGTERM (``kill``, a scheduler, ``docker stop``) ends the demo like Ctrl-C (SIGINT): gradio
    closes its server and the interpreter exits normally, so the exit handlers run and the private
    upload folder is removed (Python's default SIGTERM action would skip them)."""
    def handler(signum, frame):  # noqa: ARG001
        _STOPPED_BY.append(signum)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.max_upload_mb <= 0:
        print("cam2seg-demo: --max-upload-mb must be > 0", file=sys.stderr)
        return 2
    if args.port is not None and not 0 < args.port < 65536:
        print(f"cam2seg-demo: --port {args.port} is not a valid port", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print("cam2seg-demo: --threads must be >= 1", file=sys.stderr)
            return 2
        import torch

        torch.set_num_threads(args.threads)
    _stop_on_sigterm()
    try:
        from .app import launch
        from .resources import DemoConfig

        config = DemoConfig(classifier=args.classifier, classifier_weights=args.classifier_weights,
                            segmenter=args.segmenter, segmenter_checkpoint=args.segmenter_checkpoint,
                            device=args.device, max_upload_mb=args.max_upload_mb,
                            offer_hub_classifiers=not args.no_hub_classifiers, examples_dir=args.examples_dir)
        launch(share=args.share, host=args.host, port=args.port, config=config)
    except KeyboardInterrupt:   # a signal before the server was up
        return 128 + (_STOPPED_BY[0] if _STOPPED_BY else signal.SIGINT)
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as err:
        print(f"cam2seg-demo: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        app = sys.modules.get("cam2seg_utils.demo.app")
        if app is not None:
            app.remove_private_temp_root()
    return 128 + _STOPPED_BY[0] if _STOPPED_BY else 0


if __name__ == "__main__":
    raise SystemExit(main())

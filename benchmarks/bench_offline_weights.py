"""How long a user waits before hub weights fail offline, beside an offline build that works.

    python benchmarks/bench_offline_weights.py --repeats 5

``build_classifier(name, weights="imagenet")`` with ``HF_HUB_OFFLINE=1`` and an empty hub cache
must raise :class:`cam2seg_utils.models.WeightsUnavailableError` at once (no network retries,
no timeouts); tests/test_models_weights.py checks the error and its message, this script the
time it takes. Side by side in one run, on the same machine: the failing hub build and the
offline build of the embedded EfficientNet-Lite0 (the default of every CPU profile), median and
maximum wall seconds over ``--repeats`` runs each, and their ratio. The figure the project
expects: the failure well under 5 s, about the time of a model build (both mostly create the
architecture).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

os.environ["HF_HUB_OFFLINE"] = "1"


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="runs of each build (default %(default)s)")
    ap.add_argument("--model", default="mobilenetv2_100", help="hub model whose weights are missing offline")
    args = ap.parse_args()

    from huggingface_hub import constants

    from cam2seg_utils.models import WeightsUnavailableError, build_classifier

    def failing() -> None:
        try:
            build_classifier(args.model, weights="imagenet")
        except WeightsUnavailableError:
            return
        raise SystemExit(f"{args.model}: imagenet weights loaded offline; the benchmark needs an empty hub cache")

    def embedded() -> None:
        build_classifier("tf_efficientnet_lite0", weights="embedded")

    with tempfile.TemporaryDirectory() as cache:
        constants.HF_HUB_CACHE = cache        # an empty cache, as on a fresh offline machine
        embedded()                            # imports and first-use costs out of the figures
        rows = {f"{args.model} imagenet, offline (fails)": [_timed(failing) for _ in range(args.repeats)],
                "tf_efficientnet_lite0 embedded (builds)": [_timed(embedded) for _ in range(args.repeats)]}
    print(f"{'build':45s} {'median s':>9s} {'max s':>7s}")
    for label, times in rows.items():
        print(f"{label:45s} {statistics.median(times):9.3f} {max(times):7.3f}")
    fail, ok = (statistics.median(t) for t in rows.values())
    print(f"failure / working build: {fail / ok:.2f}x")


if __name__ == "__main__":
    main()

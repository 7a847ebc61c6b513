#!/usr/bin/env bash
# The GPU path in one command: CUDA-marked tests, one AMP fine-tuning epoch of Lite0, every CAM and
# the grid on 16 real images, with images/s per stage and peak memory (benchmarks/gpu_check.py).
#
#   bash benchmarks/gpu_check.sh                                   # a CUDA machine: the full check
#   bash benchmarks/gpu_check.sh --device cpu --images 2 --train-images 16   # the same steps on a CPU
#
# Options (all passed on to gpu_check.py, except --skip-tests):
#   --device cuda|cpu     default cuda (refused with a clear message when CUDA is absent)
#   --images N            real test images for the CAM / grid stages (default 16)
#   --train-images N      cap on fine-tuning train / val images (default: the whole split)
#   --isic-root DIR       ISIC 2017 folder (default ../shared/isic2017)
#   --skip-tests          do not run `pytest -m cuda` first (the CPU dry run in tests/ uses it)
# Run from the repository root. Exit status: non-zero when a test or a step fails.
set -euo pipefail

cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 PYTHONPATH="${PYTHONPATH:-$PWD}"

device=cuda
run_tests=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-tests) run_tests=0 ;;
    --device) device="$2"; shift ;;
    --device=*) device="${1#--device=}" ;;
    *) args+=("$1") ;;
  esac
  shift
done

PYTHON="${PYTHON:-python}"
if ! $PYTHON -c '
import sys, torch
print(f"== gpu_check: device {sys.argv[1]}, torch {torch.__version__}, CUDA available {torch.cuda.is_available()}")
sys.exit(1 if sys.argv[1] == "cuda" and not torch.cuda.is_available() else 0)' "$device"; then
  echo "gpu_check: --device cuda but no CUDA device is visible (run with --device cpu for the CPU path)" >&2
  exit 2
fi

if [ "$run_tests" = 1 ]; then
  echo "== 1/2 CUDA-marked tests (pytest -m cuda; they skip without CUDA)"
  t0=$(date +%s)
  $PYTHON -m pytest -q -m cuda -p no:cacheprovider tests
  echo "   tests: $(( $(date +%s) - t0 )) s"
fi

echo "== 2/2 fine-tuning (AMP), CAM stages, grid"
$PYTHON benchmarks/gpu_check.py --device "$device" "${args[@]+"${args[@]}"}"

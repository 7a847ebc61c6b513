#!/bin/bash
# The whole cam2seg run on a SLURM cluster: four jobs chained with plain
# `sbatch --dependency=afterok:<job>` (no extra scheduler), each a stage of hpc/stage.sbatch:
#
#   1. finetune  array over the profile's models    one task per model (skipped when the profile
#                                                   has no fine-tuned setting, or --no-finetune)
#   2. grid      array over --shards image shards   task K computes the images i % N == K of the
#                afterok:1                          sorted test ids into results/<profile>/
#   3. merge     afterok:2                          grid.parquet + run_summary.json + tables/
#   4. book      afterok:3                          python book/build.py --profile <profile>
#
# Usage (from the repository root, in the environment that has cam2seg installed):
#
#   hpc/pipeline.sh [--profile paper] [--shards 20] [--workers 1] [--gres gpu:1 | --gres ""]
#                   [--sbatch-args "--account=... --partition=..."] [--no-finetune] [--no-book]
#                   [--dry-run]
#
# --dry-run prints the sbatch commands with stand-in job ids (1001, 1002, ...) and submits
# nothing. CAM2SEG_ARGS / BOOK_ARGS in the environment reach every stage (hpc/stage.sbatch).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=paper SHARDS=20 WORKERS=1 GRES=gpu:1 SBATCH_ARGS="" FINETUNE=1 BOOK=1 DRY_RUN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) PROFILE=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --gres) GRES=$2; shift 2 ;;
    --sbatch-args) SBATCH_ARGS=$2; shift 2 ;;
    --no-finetune) FINETUNE=0; shift ;;
    --no-book) BOOK=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "pipeline.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ "$SHARDS" =~ ^[1-9][0-9]*$ ]]; then echo "pipeline.sh: --shards must be a positive integer" >&2; exit 2; fi
read -r -a EXTRA_SBATCH <<< "$SBATCH_ARGS"
GPU=()
if [ -n "$GRES" ]; then GPU=(--gres="$GRES"); fi   # --gres "" for CPU-only nodes

# the profile's models and whether it has the fine-tuned setting, as the cam2seg commands see them
read -r MODELS_CSV FINETUNED < <(python - "$PROFILE" <<'PY'
import sys
from cam2seg_utils.profiles import get_profile
cfg = get_profile(sys.argv[1])
print(",".join(cfg.models), int("fine-tuned" in cfg.settings))
PY
)
MODELS=${MODELS_CSV//,/ }
read -r -a MODEL_LIST <<< "$MODELS"

FAKE_ID=1000
JOB_ID=""
submit() {   # submit SBATCH_FLAGS... -- VAR=value...  -> sets JOB_ID
  local flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  local cmd=(env "$@" sbatch --parsable "${EXTRA_SBATCH[@]}" "${flags[@]}" hpc/stage.sbatch)
  if [ "$DRY_RUN" = 1 ]; then
    printf '%q ' "${cmd[@]}"; echo
    FAKE_ID=$((FAKE_ID + 1)); JOB_ID=$FAKE_ID
  else
    local out; out=$("${cmd[@]}"); JOB_ID=${out%%;*}   # --parsable: "id" or "id;cluster"
  fi
}

[ "$DRY_RUN" = 1 ] || mkdir -p logs   # the jobs' --output folder must exist before they start
COMMON=(PROFILE="$PROFILE" CAM2SEG_ARGS="${CAM2SEG_ARGS:-}")
DEP=()
if [ "$FINETUNE" = 1 ] && [ "$FINETUNED" = 1 ]; then
  submit --job-name=cam2seg-finetune "${GPU[@]}" --array=0-$((${#MODEL_LIST[@]} - 1)) -- \
         STAGE=finetune MODELS="$MODELS" "${COMMON[@]}"
  echo "finetune: job $JOB_ID (${#MODEL_LIST[@]} tasks: $MODELS)"
  DEP=(--dependency=afterok:"$JOB_ID")
fi
submit --job-name=cam2seg-grid "${GPU[@]}" --array=0-$((SHARDS - 1)) "${DEP[@]}" -- \
       STAGE=grid NUM_SHARDS="$SHARDS" WORKERS="$WORKERS" "${COMMON[@]}"
echo "grid: job $JOB_ID ($SHARDS image shards)"
submit --job-name=cam2seg-merge --dependency=afterok:"$JOB_ID" -- STAGE=merge "${COMMON[@]}"
echo "merge: job $JOB_ID"
if [ "$BOOK" = 1 ]; then
  submit --job-name=cam2seg-book "${GPU[@]}" --dependency=afterok:"$JOB_ID" -- \
         STAGE=book BOOK_ARGS="${BOOK_ARGS:-}" "${COMMON[@]}"
  echo "book: job $JOB_ID"
fi

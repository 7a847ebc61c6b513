#!/bin/bash
# The whole cam2seg run on a SLURM cluster: jobs chained with plain
# `sbatch --dependency=afterok:<job>` (no extra scheduler), each a stage of hpc/stage.sbatch:
#
#   finetune  array over the profile's models      one task per model (only when the profile has
#                                                  the fine-tuned setting; --no-finetune skips it)
#   grid      array over --shards image shards     task K computes the images i % N == K of the
#             afterok:finetune                     sorted test ids into the profile's results folder
#   merge     afterok:grid                         grid.parquet + run_summary.json + tables/
#   tune      afterok:finetune                     cam2seg tune-strategies (chapter 9's curve)
#   hitl      afterok:grid                         cam2seg hitl (chapter 10), reusing the grid's CAMs
#   book      afterok:merge,tune,hitl              python book/build.py --profile <profile>, no GPU
#
# Usage (from anywhere, in the environment that has cam2seg installed):
#
#   hpc/pipeline.sh [--profile paper] [--shards 20] [--workers 1] [--resume] [--dry-run]
#                   [--no-finetune] [--no-tune] [--no-hitl] [--no-book] [--log-dir logs]
#                   [--gres gpu:1] [--cpus-per-task 8] [--mem 32G] [--time 08:00:00]
#                   [--partition P] [--account A] [--<stage>-<resource> VALUE ...]
#                   [--sbatch-args "..."]
#
# Resources: --gres (default gpu:1) goes to the GPU stages (finetune, grid, tune, hitl), never to
# merge and book; --cpus-per-task, --mem, --time (defaults 8, 32G, 08:00:00 from stage.sbatch),
# --partition and --account go to every stage. --<stage>-<resource> sets one stage's value, e.g.
# --grid-time 02:00:00 --book-partition cpu --hitl-gres gpu:2 --merge-mem 8G; an empty value
# (--gres "") leaves the option out. --sbatch-args adds any other sbatch flag to every job.
#
# Logs: one file per job and array task, <log-dir>/<job name>-<job id>[_<task>].out; the job ids
# are printed and written to <log-dir>/jobs.txt ("stage job-id [array tasks]").
#
# --resume submits only what has no output yet (the models without a classification table, the
# shard tasks without a task summary, a merge / tune / hitl / book not done or downstream of
# resubmitted work; see hpc/plan.py); it refuses while jobs of jobs.txt are still queued.
# Dependent jobs are submitted with --kill-on-invalid-dep=yes: when a task fails, the jobs after
# it are cancelled rather than left pending forever.
#
# --dry-run prints the sbatch commands with stand-in job ids (1001, 1002, ...) and submits
# nothing. CAM2SEG_ARGS / BOOK_ARGS in the environment reach every stage (hpc/stage.sbatch).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=paper SHARDS=20 WORKERS=1 SBATCH_ARGS="" DRY_RUN=0 RESUME=0 LOG_DIR=logs
FINETUNE=1 TUNE=1 HITL=1 BOOK=1
STAGES=(finetune grid merge tune hitl book)
GPU_STAGES=" finetune grid tune hitl "
RESOURCES=(gres cpus-per-task mem time partition account)
declare -A RES=([gres]=gpu:1)     # <resource> (every stage) and <stage>:<resource> (one stage)
die() { echo "pipeline.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    --profile) PROFILE=$2; shift 2 ;;
    --shards) SHARDS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --sbatch-args) SBATCH_ARGS=$2; shift 2 ;;
    --log-dir) LOG_DIR=$2; shift 2 ;;
    --resume) RESUME=1; shift ;;
    --no-finetune) FINETUNE=0; shift ;;
    --no-tune) TUNE=0; shift ;;
    --no-hitl) HITL=0; shift ;;
    --no-book) BOOK=0; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
    --*)
      name=${opt#--} stage="" key=$name
      for s in "${STAGES[@]}"; do
        if [ "${name#"$s"-}" != "$name" ]; then stage=$s key=${name#"$s"-}; fi
      done
      [[ " ${RESOURCES[*]} " == *" $key "* ]] || die "unknown option $opt (see --help)"
      [ $# -ge 2 ] || die "$opt needs a value"
      RES[${stage:+$stage:}$key]=$2; shift 2 ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
done
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a positive integer"
read -r -a EXTRA_SBATCH <<< "$SBATCH_ARGS"
read -r -a CAM2SEG_LIST <<< "${CAM2SEG_ARGS:-}"

deps() { local IFS=:; echo "$*"; }   # deps ID... -> "id1:id2"
comma() { local IFS=,; echo "$*"; }
ranges() {   # ranges 0 1 2 5 -> "0-2,5" (an sbatch --array list)
  local out=() start=$1 prev=$1 i
  shift
  for i in "$@" ""; do
    if [ -n "$i" ] && [ "$i" = $((prev + 1)) ]; then prev=$i; continue; fi
    if [ "$start" = "$prev" ]; then out+=("$start"); else out+=("$start-$prev"); fi
    start=$i prev=$i
  done
  comma "${out[@]}"
}

resources() {   # resources STAGE -> the sbatch flags of that stage in FLAGS
  local stage=$1 key value
  FLAGS=()
  for key in "${RESOURCES[@]}"; do
    if [ -n "${RES[$stage:$key]+set}" ]; then value=${RES[$stage:$key]}
    elif [ "$key" = gres ] && [[ "$GPU_STAGES" != *" $stage "* ]]; then value=""
    else value=${RES[$key]:-}; fi
    if [ -n "$value" ]; then FLAGS+=("--$key=$value"); fi
  done
}

# the profile's models and what is left to do, as the cam2seg commands see the configuration
RESUME_FLAG=(); if [ "$RESUME" = 1 ]; then RESUME_FLAG=(--resume); fi
SKIP=(); [ "$FINETUNE" = 1 ] || SKIP+=(finetune); [ "$TUNE" = 1 ] || SKIP+=(tune); [ "$HITL" = 1 ] || SKIP+=(hitl)
PLAN=$(python hpc/plan.py --profile "$PROFILE" --shards "$SHARDS" "${RESUME_FLAG[@]}" --skip "$(comma "${SKIP[@]}")" \
       -- "${CAM2SEG_LIST[@]}") || exit 2
eval "$PLAN"
read -r -a MODEL_LIST <<< "$MODELS"
JOBS_FILE=$LOG_DIR/jobs.txt

LAST_IDS=$([ -f "$JOBS_FILE" ] && awk '{print $2}' "$JOBS_FILE" | paste -sd, || true)
if [ "$RESUME" = 1 ] && [ "$DRY_RUN" = 0 ] && [ -n "$LAST_IDS" ]; then
  queued=$(squeue -h -o %i --states=PD,R,CF,CG,S --jobs="$LAST_IDS" 2>/dev/null || true)
  if [ -n "$queued" ]; then
    die "jobs of the last submission ($JOBS_FILE) are still queued or running: $(echo $queued); wait for them or scancel them, then --resume"
  fi
fi

[ "$DRY_RUN" = 1 ] || mkdir -p "$LOG_DIR"   # the jobs' --output folder must exist before they start
FAKE_ID=1000
JOB_ID=""
SUBMITTED=()
submit() {   # submit STAGE ARRAY DEPENDENCIES -- VAR=value...  -> sets JOB_ID
  local stage=$1 array=$2 deps=$3
  shift 4
  resources "$stage"
  local flags=(--job-name="cam2seg-$stage" "${FLAGS[@]}")
  if [ -n "$array" ]; then flags+=(--array="$array" --output="$LOG_DIR/%x-%A_%a.out")
  else flags+=(--output="$LOG_DIR/%x-%j.out"); fi
  if [ -n "$deps" ]; then flags+=(--dependency="afterok:$deps" --kill-on-invalid-dep=yes); fi
  local cmd=(env "$@" sbatch --parsable "${EXTRA_SBATCH[@]}" "${flags[@]}" hpc/stage.sbatch)
  if [ "$DRY_RUN" = 1 ]; then
    printf '%q ' "${cmd[@]}"; echo
    FAKE_ID=$((FAKE_ID + 1)); JOB_ID=$FAKE_ID
  else
    local out; out=$("${cmd[@]}"); JOB_ID=${out%%;*}   # --parsable: "id" or "id;cluster"
    [ ${#SUBMITTED[@]} -gt 0 ] || : > "$JOBS_FILE"      # this submission's ids replace the last one's
    echo "$stage $JOB_ID${array:+ $array}" >> "$JOBS_FILE"
  fi
  SUBMITTED+=("$JOB_ID")
}
COMMON=(PROFILE="$PROFILE" CAM2SEG_ARGS="${CAM2SEG_ARGS:-}")
FT_ID="" GRID_ID="" BOOK_DEPS=()
read -r -a TODO <<< "$FINETUNE_TODO"
if [ "$FINETUNE" = 1 ] && [ "$FINETUNED" = 1 ] && [ "$TRAINABLE" = 1 ] && [ ${#TODO[@]} -gt 0 ]; then
  submit finetune "$(ranges "${TODO[@]}")" "" -- STAGE=finetune MODELS="$MODELS" "${COMMON[@]}"
  FT_ID=$JOB_ID
  names=(); for i in "${TODO[@]}"; do names+=("${MODEL_LIST[$i]}"); done
  echo "finetune: job $JOB_ID (${#TODO[@]} tasks: ${names[*]})"
fi
read -r -a TODO <<< "$GRID_TODO"
if [ ${#TODO[@]} -gt 0 ]; then
  submit grid "$(ranges "${TODO[@]}")" "$FT_ID" -- STAGE=grid NUM_SHARDS="$SHARDS" WORKERS="$WORKERS" "${COMMON[@]}"
  GRID_ID=$JOB_ID
  if [ ${#TODO[@]} = "$SHARDS" ]; then echo "grid: job $JOB_ID ($SHARDS image shards)"
  else echo "grid: job $JOB_ID (image shards $(comma "${TODO[@]}") of $SHARDS)"; fi
fi
if [ "$MERGE_TODO" = 1 ]; then
  submit merge "" "$GRID_ID" -- STAGE=merge "${COMMON[@]}"
  BOOK_DEPS+=("$JOB_ID")
  echo "merge: job $JOB_ID"
fi
if [ "$TUNE" = 1 ] && [ "$TRAINABLE" = 1 ] && [ "$TUNE_TODO" = 1 ]; then
  submit tune "" "$FT_ID" -- STAGE=tune "${COMMON[@]}"
  BOOK_DEPS+=("$JOB_ID")
  echo "tune: job $JOB_ID"
fi
if [ "$HITL" = 1 ] && [ "$HITL_TODO" = 1 ]; then
  submit hitl "" "$GRID_ID" -- STAGE=hitl "${COMMON[@]}"
  BOOK_DEPS+=("$JOB_ID")
  echo "hitl: job $JOB_ID"
fi
if [ "$BOOK" = 1 ] && { [ "$BOOK_TODO" = 1 ] || [ ${#BOOK_DEPS[@]} -gt 0 ]; }; then
  resources book
  if [ "$DEVICE" = cuda ] && [[ " ${FLAGS[*]} " != *" --gres="* ]]; then
    # the book's pages that draw examples run the models on the profile's device: on the CPU here
    BOOK_ARGS="${BOOK_ARGS:+$BOOK_ARGS }--param device=cpu"
  fi
  submit book "" "$(deps "${BOOK_DEPS[@]}")" -- STAGE=book BOOK_ARGS="${BOOK_ARGS:-}" "${COMMON[@]}"
  echo "book: job $JOB_ID"
fi

if [ ${#SUBMITTED[@]} = 0 ]; then
  echo "nothing to submit: every stage's output is there (--resume)"
  exit 0
fi
if [ "$DRY_RUN" = 0 ]; then
  echo "job ids: $JOBS_FILE; logs: $LOG_DIR/"
  echo "watch them: squeue --jobs=$(comma "${SUBMITTED[@]}") -o '%.12i %.18j %.2t %.10M %R'"
fi

#!/usr/bin/env bash
# TIPC chain, the PaddleClas / reproduction-contest convention: train -> eval -> export -> Paddle Inference.
#   bash test_tipc/prepare.sh test_tipc/configs/srcnn/train_infer_python.txt lite_train_lite_infer
#   bash test_tipc/test_train_inference_python.sh test_tipc/configs/srcnn/train_infer_python.txt lite_train_lite_infer
# Each command's status is a line of test_tipc/output/<model_name>/results_python.log ("Run successfully
# with command - ..." / "Run failed with command - ..."), its output in <step>.log beside it; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
FILE=${1:?usage: test_train_inference_python.sh CONFIG_TXT MODE}
MODE=${2:?usage: test_train_inference_python.sh CONFIG_TXT MODE}
[[ -f $FILE ]] || { echo "$FILE: no such TIPC config" >&2; exit 2; }

section() { awk -v s="$1" '/^=+.*_params=+$/ {on = ($0 ~ s)} on' "$FILE"; }  # the lines of one *_params block
value_of() { section "$1" | grep -m1 "^$2:" | cut -d: -f2-; }  # KEY:VALUE -> VALUE
for_mode() {  # "lite_train_lite_infer=1|whole_train_whole_infer=250" -> this MODE's value; a plain value as is
  local item
  [[ $1 == *"lite_train_lite_infer="* || $1 == *"whole_train_whole_infer="* ]] || { echo "$1"; return; }
  IFS='|' read -ra items <<< "$1"
  for item in "${items[@]}"; do [[ $item == "$MODE="* ]] && { echo "${item#"$MODE="}"; return; }; done
  echo "$FILE: no value for $MODE in '$1'" >&2; exit 2
}
overrides() {  # the "-o KEY:VALUE" lines of a block -> "-o KEY=VALUE" for this MODE
  section "$1" | grep '^-o ' | while IFS= read -r line; do
    key=${line%%:*}; echo -n "$key=$(for_mode "${line#*:}") "
  done
}

PYTHON=$(value_of train_params python)
MODEL=$(value_of train_params model_name)
OUT=test_tipc/output/$MODEL
RESULTS=$OUT/results_python.log
rm -rf "$OUT" && mkdir -p "$OUT"
FAILED=0
run() {  # run STEP COMMAND...: its output to $OUT/STEP.log, its status to results_python.log
  local step=$1; shift
  if "$@" > "$OUT/$step.log" 2>&1; then
    echo "Run successfully with command - $step: $*!" | tee -a "$RESULTS"
  else
    echo "Run failed with command - $step: $*! (see $OUT/$step.log)" | tee -a "$RESULTS"; FAILED=1
  fi
}

TRAIN_OVERRIDES=$(overrides train_params)
TRAIN_DIR=$(for_mode "$(value_of train_params '-o Global.output_dir')")
WEIGHTS=$TRAIN_DIR/$(value_of train_params train_model_name)
# shellcheck disable=SC2086  # the overrides are words on purpose
run train $PYTHON $(value_of train_params norm_train) $TRAIN_OVERRIDES
SETS=$(value_of eval_params --set)  # none: the config's own test sets (or its Eval set)
run eval $PYTHON $(value_of eval_params eval) -o Global.pretrained_model="$WEIGHTS" -o Global.output_dir="$OUT/eval" \
    $(overrides eval_params) ${SETS:+--set "$(for_mode "$SETS")"}
EXPORT_OVERRIDES=$(overrides infer_params)
MODEL_DIR=$(for_mode "$(value_of infer_params '-o Global.save_inference_dir')")
run export $PYTHON $(value_of infer_params norm_export) -o Global.pretrained_model="$WEIGHTS" $EXPORT_OVERRIDES
INPUTS=$(value_of infer_params --input)  # none: a model that takes no input file (a GAN generator)
INPUT=${INPUTS:+$(for_mode "$INPUTS")}
IFS='|' read -ra THREADS <<< "$(value_of infer_params --cpu_threads)"
IFS='|' read -ra ONEDNN <<< "$(value_of infer_params --enable_onednn)"
for threads in "${THREADS[@]}"; do
  for onednn in "${ONEDNN[@]}"; do
    flag=$([[ $onednn == True ]] && echo --enable_onednn || echo --no-enable_onednn)
    run "infer_cpu_threads${threads}_onednn${onednn}" $PYTHON $(value_of infer_params inference) --model_dir "$MODEL_DIR" \
        ${INPUT:+--input "$INPUT"} --output "$OUT/infer_threads${threads}_onednn${onednn}" --cpu_threads "$threads" "$flag"
  done
done
exit $FAILED

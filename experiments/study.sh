#!/usr/bin/env bash
# The methods study (docs/results/fashion-mnist.md): six methods, three D2R ablations and two variants on the full
# Fashion-MNIST training set (60,000 images), smallcnn target (and smallcnn guidance for D2R and LBGAT),
# eps 0.1, 10-step generation of step 0.01, D2R's recipe for every method (--recipe shared) over 8 epochs, seed 0.
# Each run is evaluated (PGD-20, CW-20, AutoAttack on 1,000 test points) as soon as it has trained.
# Resumable: a run that has a checkpoint continues from it; a finished run is skipped, its
# evaluation kept (or resumed). A run missing from OUT is first restored from the study's committed copy
# (experiments/study-store.sh), so a new machine goes on where the last commit left the study.
#
#   bash experiments/study.sh [OUT=runs/study] [LANE]      LANE: 1, 2 or all (default all, one after another)
#
# The two lanes hold about the same amount of compute, so two processes (one core each) finish together.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/study}
LANE=${2:-all}
EPOCHS=${EPOCHS:-8}
d2r() { nice -n 19 node dist/src/cli/main.js "$@"; }
common=(--model smallcnn --dataset fashion-mnist --recipe shared --epochs "$EPOCHS" --epsilon 0.1 --step-size 0.01
  --steps 10 --eval-n 1000 --eval-steps 20 --seed 0 --threads 1)

train() { # NAME FLAGS...
  local name=$1; shift
  local dir="$OUT/$name"
  bash experiments/study-store.sh restore "$OUT" "$name" # the committed copy, on a machine that lacks the run
  if [ -f "$dir/target.safetensors" ] && [ -f "$dir/checkpoint.json" ] &&
    node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1]));process.exit(c.epoch>=+process.argv[2]?0:1)' "$dir/checkpoint.json" "$EPOCHS"; then
    echo "study: $name trained"
  elif [ -f "$dir/checkpoint.json" ]; then
    d2r train --resume --epochs "$EPOCHS" --out "$dir"
  else
    d2r train "${common[@]}" "$@" --out "$dir"
  fi
  nice -n 19 node dist/experiments/study-results.js --study "$OUT" --evaluate "$name" --threads 1
}

lane1() {
  train standard --method standard
  train lbgat --method lbgat --guidance smallcnn
  train d2r-target-generation --method d2r --guidance smallcnn --generation target
  train d2r-no-clean --method d2r --guidance smallcnn --clean-weight 0
  train mart --method mart
  train d2r-no-adv --method d2r --guidance smallcnn --adv-weight 0
}
lane2() {
  train trades --method trades
  train d2r --method d2r --guidance smallcnn
  train pgd-at --method pgd-at
  # The variant that tests whether D2R's KL terms are too small (docs/results/d2r-investigation.md): ten times larger.
  train d2r-batchmean --method d2r --guidance smallcnn --reduction batchmean
  # The variant that tests whether the jointly trained guidance caps the target (docs/results/d2r-investigation.md):
  # PGD-AT's trained model as a fixed guidance (a standard model's confident logits made D2R diverge at this lr).
  train d2r-frozen-guidance --method d2r --guidance smallcnn --guidance-mode frozen \
    --guidance-weights "$OUT/pgd-at/target.safetensors"
}
case $LANE in
  1) lane1 ;;
  2) lane2 ;;
  all) lane1; lane2 ;;
  *) echo "study: LANE must be 1, 2 or all, got '$LANE'" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, then train
# D2R (target + guidance) on the embedded Fashion-MNIST and evaluate it.
# Budget (about 5 minutes on 2 cores): smallcnn target and guidance, the first
# 10,000 training images, 5 epochs, eps 0.1, CAG with 10 steps of 0.01; evaluated
# on the first 500 test points with PGD-20.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
[ -f build/Release/d2r_native.node ] && [ -d node_modules ] && [ -f dist/src/cli/main.js ] || npm ci
RUN=${RUN:-runs/main-d2r}
node dist/src/cli/main.js train --method d2r --model smallcnn --guidance smallcnn --dataset fashion-mnist \
  --limit 10000 --epochs 5 --epsilon 0.1 --step-size 0.01 --steps 10 --eval-n 500 --seed 0 --out "$RUN"
node dist/src/cli/main.js eval --checkpoint "$RUN" --n 500 --attacks fgsm,pgd20,cw20 --seed 0
echo "main job done: run directory $(pwd)/$RUN (metrics.jsonl, eval.json, target.safetensors)"

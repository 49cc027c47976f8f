#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, then train
# D2R (target + guidance) on the embedded Fashion-MNIST and evaluate it.
# Budget (a few minutes on 2 cores): smallcnn target and guidance, the first
# 5,000 training images, 6 epochs at batch 64 (lr 0.01, /10 in the last epoch),
# eps 0.1, CAG with 10 steps of 0.01; evaluated on the first 500 test points
# with FGSM, PGD-20 and CW-20 (per-point worst case).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
# npm ci on a fresh clone (it builds the addon and the TypeScript); later runs only recompile the TypeScript.
if [ -f build/Release/d2r_native.node ] && [ -d node_modules ]; then npm run --silent build; else npm ci; fi
RUN=${RUN:-runs/main-d2r}
node dist/src/cli/main.js train --method d2r --model smallcnn --guidance smallcnn --dataset fashion-mnist \
  --limit 5000 --epochs 6 --batch-size 64 --lr 0.01 --schedule multistep \
  --epsilon 0.1 --step-size 0.01 --steps 10 --eval-n 500 --seed 0 --out "$RUN"
node dist/src/cli/main.js eval --checkpoint "$RUN" --n 500 --attacks fgsm,pgd20,cw20 --seed 0
echo "main job done: run directory $(pwd)/$RUN (metrics.jsonl, eval.json, target.safetensors)"

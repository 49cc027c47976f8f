#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build, train D2R
# (target + guidance) on the embedded Fashion-MNIST, evaluate it with PGD-20
# and AutoAttack, and write the report.
# Budget (about 6 minutes on 2 cores after the install): smallcnn target and
# guidance, the first 8,000 training images, 4 epochs at batch 64 (lr 0.02,
# /10 in the last epoch), eps 0.1 with CAG of 5 steps of 0.02; PGD-20 and
# AutoAttack (standard) on the first 100 test points, robust accuracy against
# eps (PGD-20) on the first 200.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup-system.sh
# npm ci on a fresh clone (it builds the addon and the TypeScript); later runs only recompile the TypeScript.
if [ -f build/Release/d2r_native.node ] && [ -d node_modules ]; then npm run --silent build; else npm ci; fi
installed=$(date +%s)
RUN=${RUN:-runs/main-d2r}
d2r() { node dist/src/cli/main.js "$@"; }
d2r train --method d2r --model smallcnn --guidance smallcnn --dataset fashion-mnist \
  --limit 8000 --epochs 4 --batch-size 64 --lr 0.02 --schedule multistep \
  --epsilon 0.1 --step-size 0.02 --steps 5 --eval-n 200 --seed 0 --overwrite --out "$RUN"
d2r eval --checkpoint "$RUN" --n 100 --attacks pgd20,autoattack --seed 0
d2r eval --checkpoint "$RUN" --n 200 --attacks pgd20 --eps-sweep 0,0.025,0.05,0.1,0.15,0.2 --seed 0
d2r report "$RUN"
finished=$(date +%s)
echo "main job done in $(( (finished - installed) / 60 )) min $(( (finished - installed) % 60 )) s (install and build: $(( installed - started )) s)"
echo "report: $(pwd)/$RUN/report/index.html"

#!/usr/bin/env bash
# The methods study's committed copy: the only place a study outlives the machine it ran on (a new
# machine starts from the repository alone). Each run directory is kept whole but for older checkpoints:
# config.json, metrics.jsonl, the evaluations (and an interrupted one's state file), target.safetensors,
# checkpoint.json and the one checkpoint it names, enough to evaluate a finished run and to resume an
# unfinished one exactly.
#
#   bash experiments/study-store.sh save STUDY [RUN...]      copy STUDY's runs into the store (stop or pause the lanes first)
#   bash experiments/study-store.sh restore STUDY [RUN...]   copy the stored runs that STUDY lacks into STUDY
#
# RUN names some runs (default: all). The store is docs/results/fashion-mnist-runs, or $STUDY_STORE. Save
# replaces a run's copy, and restore puts a run in place, only once the copy is complete; restore never
# touches a run STUDY already has (the live run is the newer one). experiments/study.sh restores each run
# before it trains it.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/.."
usage="usage: bash experiments/study-store.sh save|restore STUDY [RUN...]"
ACTION=${1:?$usage}
STUDY=${2:?$usage}
shift 2
STORE=${STUDY_STORE:-docs/results/fashion-mnist-runs}

# The run directories of FOLDER that were asked for (all of them without RUN names).
runs_in() { # FOLDER
  local dir
  if [ ${#RUNS[@]} -gt 0 ]; then
    for name in "${RUNS[@]}"; do [ -d "$1/$name" ] && echo "$1/$name"; done
  else
    for dir in "$1"/*/; do echo "${dir%/}"; done
  fi
  return 0
}
RUNS=("$@")

# A run is saved only while nothing writes it: its lock's process is gone or stopped (kill -STOP).
check_paused() { # RUN_DIR
  local lock="$1/.d2r.lock" pid state
  [ -f "$lock" ] || return 0
  pid=$(node -e 'try{process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).pid))}catch{}' "$lock")
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 0
  state=$(awk '{print $3}' "/proc/$pid/stat")
  if [ "$state" != T ] && [ "$state" != t ]; then
    echo "study-store: $1 is being written by process $pid (state $state): pause it (kill -STOP) or let it finish, then save" >&2
    exit 1
  fi
}

save() {
  mkdir -p "$STORE"
  local dir name pointer tmp saved=0
  while read -r dir; do
    name=$(basename "$dir")
    [ -f "$dir/config.json" ] || continue
    check_paused "$dir"
    pointer=""
    [ -f "$dir/checkpoint.json" ] &&
      pointer=$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).dir)' "$dir/checkpoint.json")
    rm -rf "$STORE/.saving.$name."* # a copy an interrupted save left (this script's own name)
    tmp=$(mktemp -d "$STORE/.saving.$name.XXXXXX")
    find "$dir" -maxdepth 1 -type f ! -name '.*' -exec cp -p {} "$tmp/" \;
    if [ -n "$pointer" ]; then
      mkdir -p "$tmp/$pointer"
      cp -p "$dir/$pointer"/* "$tmp/$pointer/"
    fi
    rm -rf "$STORE/$name"
    mv "$tmp" "$STORE/$name"
    saved=$((saved + 1))
    echo "study-store: saved $name${pointer:+ ($pointer)}"
  done < <(runs_in "$STUDY")
  echo "study-store: $saved runs saved in $STORE"
}

restore() {
  # Named runs the store lacks are not an error: study.sh asks for each run it is about to train.
  [ -d "$STORE" ] || [ ${#RUNS[@]} -gt 0 ] || { echo "study-store: $STORE: no saved study" >&2; exit 1; }
  mkdir -p "$STUDY"
  local dir name tmp
  while read -r dir; do
    name=$(basename "$dir")
    if [ -e "$STUDY/$name" ]; then
      echo "study-store: kept $STUDY/$name (already there)"
    else
      # A copy an interrupted restore left; only this run's (the other lane may be restoring its own now).
      rm -rf "$STUDY/.restoring.$name."*
      tmp=$(mktemp -d "$STUDY/.restoring.$name.XXXXXX")
      cp -rp "$dir/." "$tmp/"
      mv "$tmp" "$STUDY/$name"
      echo "study-store: restored $name"
    fi
  done < <(runs_in "$STORE")
}

case $ACTION in
  save) save ;;
  restore) restore ;;
  *) echo "$usage" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Runs the methods study's two lanes (experiments/study.sh) in the background and controls them, so a
# session can start, pause (while the test suite runs), stop and save the study without hunting for
# processes. Each lane runs in its own process group (its pid in OUT/laneN.pid, its output in
# OUT/laneN.log), at the lowest CPU priority so other work on the machine goes first.
#
#   bash experiments/study-lanes.sh start [OUT]    start the lanes that are not running (each resumes where it stopped)
#   bash experiments/study-lanes.sh pause [OUT]    stop them where they are (SIGSTOP): the CPU is free, nothing is lost
#   bash experiments/study-lanes.sh resume [OUT]   let paused lanes go on (SIGCONT)
#   bash experiments/study-lanes.sh stop [OUT] [--kill-after SECONDS]
#                                                  end them (SIGTERM): training checkpoints the batches done and an
#                                                  evaluation saves its state; returns once every process has exited.
#                                                  A process acts on SIGTERM only between batches, and one batch of
#                                                  an AutoAttack evaluation (Square: 5,000 queries) can take half an
#                                                  hour here; --kill-after ends what is left after SECONDS with
#                                                  SIGKILL: the batch in progress is lost, and the run resumes from
#                                                  its last saved batch or checkpoint (at most --checkpoint-minutes old)
#   bash experiments/study-lanes.sh status [OUT]
#
# OUT defaults to runs/study. To keep the study across machines, stop (or pause) the lanes, then
# `bash experiments/study-store.sh save OUT` and commit docs/results/fashion-mnist-runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTION=${1:?usage: bash experiments/study-lanes.sh start|pause|resume|stop|status [OUT] [--kill-after SECONDS]}
OUT=${2:-runs/study}
KILL_AFTER=
if [ $# -gt 2 ]; then
  if [ "$ACTION" != stop ] || [ "$3" != --kill-after ] || ! [[ "${4:-}" =~ ^[0-9]+$ ]] || [ $# -gt 4 ]; then
    echo "study-lanes: only stop takes more than OUT: stop [OUT] [--kill-after SECONDS], got '${*:3}'" >&2
    exit 2
  fi
  KILL_AFTER=$4
fi
LANES=(1 2)

# The process group of a running lane, or nothing. A pid file left by another boot may name a process that
# is no lane now: its leader must still carry this lane's mark, an environment variable that it keeps
# through its execs into study.sh (its command line changes on the way, so a lane caught in between would
# look like no lane and be started twice).
lane_mark() { echo "D2R_STUDY_LANE=$OUT/lane$1"; } # LANE
lane_group() { # LANE
  local file="$OUT/lane$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 -- "-$pid" 2>/dev/null || return 0
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qxF "$(lane_mark "$1")"; then echo "$pid"; fi
  return 0
}

signal_lanes() { # SIGNAL VERB
  local lane group
  for lane in "${LANES[@]}"; do
    group=$(lane_group "$lane")
    if [ -n "$group" ]; then
      kill "-$1" -- "-$group"
      echo "study-lanes: lane $lane $2 (process group $group)"
    else
      echo "study-lanes: lane $lane is not running"
    fi
  done
}

case $ACTION in
  start)
    mkdir -p "$OUT"
    for lane in "${LANES[@]}"; do
      group=$(lane_group "$lane")
      if [ -n "$group" ]; then
        echo "study-lanes: lane $lane is running already (process group $group)"
        continue
      fi
      # setsid: a process group (and a scheduler autogroup) of its own, which outlives this shell; the lane
      # lowers its own autogroup's priority from inside (from here it could still be this shell's).
      env "$(lane_mark "$lane")" setsid nohup bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null; exec bash experiments/study.sh "$0" "$1"' "$OUT" "$lane" \
        >> "$OUT/lane$lane.log" 2>&1 < /dev/null &
      echo $! > "$OUT/lane$lane.pid"
      # Return only once the lane carries its mark (a moment after the fork), so the next command sees it.
      for _ in $(seq 100); do [ -n "$(lane_group "$lane")" ] && break; sleep 0.1; done
      echo "study-lanes: lane $lane started (process group $!, log $OUT/lane$lane.log)"
    done
    ;;
  pause) signal_lanes STOP paused ;;
  resume) signal_lanes CONT resumed ;;
  stop)
    groups=()
    for lane in "${LANES[@]}"; do
      group=$(lane_group "$lane")
      [ -n "$group" ] && groups+=("$group")
    done
    signal_lanes TERM stopping
    # A paused process must run again to act on SIGTERM. The lane's shell exits at once; its d2r process
    # first finishes its batch and saves, so wait for the whole process group, not its leader.
    for group in ${groups[@]+"${groups[@]}"}; do kill -CONT -- "-$group" 2>/dev/null || true; done
    waited=0
    for group in ${groups[@]+"${groups[@]}"}; do
      while kill -0 -- "-$group" 2>/dev/null; do
        if [ -n "$KILL_AFTER" ] && [ "$waited" -ge "$KILL_AFTER" ]; then
          kill -KILL -- "-$group" 2>/dev/null || true
          echo "study-lanes: process group $group was still in a batch after ${KILL_AFTER} s: killed (it resumes from its last save)"
          for _ in $(seq 150); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.2; done
          break
        fi
        sleep 1
        waited=$((waited + 1))
      done
    done
    echo "study-lanes: every lane has stopped"
    ;;
  status)
    for lane in "${LANES[@]}"; do
      group=$(lane_group "$lane")
      if [ -n "$group" ]; then
        echo "lane $lane: running (process group $group): $(tail -c 300 "$OUT/lane$lane.log" | tr '\r' '\n' | grep -v '^$' | tail -n 1)"
      else
        echo "lane $lane: not running"
      fi
    done
    ;;
  *)
    echo "study-lanes: expected start, pause, resume, stop or status, got '$ACTION'" >&2
    exit 2
    ;;
esac

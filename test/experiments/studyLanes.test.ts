// experiments/study-lanes.sh on stand-in lanes (a study.sh that works until SIGTERM): start, pause, resume
// and stop act on both lanes' process groups, the lanes run at the lowest priority (and only they), start
// leaves a running lane alone, a pid file that names some other process is not taken for a lane, and
// stop --kill-after ends a lane stuck in a long batch.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tempDir.js';

const LANES_SCRIPT = fileURLToPath(new URL('../../../experiments/study-lanes.sh', import.meta.url));

/** A process's state letter (R, S, T, ...) from /proc. */
const stateOf = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;

/** Waits until `holds` (up to 10 s: a lane starts, and a signal arrives, asynchronously, later on a loaded machine). */
async function eventually(holds: () => boolean, what: () => string): Promise<void> {
  for (let waited = 0; !holds(); waited += 50) {
    if (waited > 10_000) assert.fail(what());
    await new Promise((r) => setTimeout(r, 50));
  }
}
const untilStopped = (pid: number, stopped: boolean): Promise<void> =>
  eventually(
    () => (stateOf(pid) === 'T') === stopped,
    () => `process ${pid} is in state ${stateOf(pid)}, expected it ${stopped ? '' : 'not '}stopped`,
  );

/**
 * study-lanes.sh beside a stand-in study.sh (its lines) in a scratch tree: the lanes' output folder and a
 * runner of `study-lanes.sh ACTION OUT [ARGS...]`. Stand-in lanes never end by themselves: whatever the
 * test finds, they are killed at its end.
 */
function standInLanes(
  t: TestContext,
  studyLines: string[],
): { out: string; lanes: (action: string, ...args: string[]) => { status: number | null; stdout: string } } {
  const root = tempDir('d2r-lanes-');
  mkdirSync(join(root, 'experiments'));
  copyFileSync(LANES_SCRIPT, join(root, 'experiments', 'study-lanes.sh'));
  writeFileSync(join(root, 'experiments', 'study.sh'), [...studyLines, ''].join('\n'));
  const out = join(root, 'out');
  t.after(() => {
    for (const lane of [1, 2]) {
      const file = join(out, `lane${lane}.pid`);
      if (!existsSync(file)) continue;
      try {
        process.kill(-Number(readFileSync(file, 'utf8')), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
  const lanes = (action: string, ...args: string[]): { status: number | null; stdout: string } => {
    const r = spawnSync('bash', [join(root, 'experiments', 'study-lanes.sh'), action, out, ...args], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout + r.stderr };
  };
  return { out, lanes };
}

test('study-lanes starts, pauses, resumes and stops both lanes, and leaves other processes alone', async (t) => {
  // Like a lane's d2r process: works until SIGTERM, then records that it stopped cleanly.
  const { out, lanes } = standInLanes(t, [
    // Its "d2r" child, like d2r train, finishes its batch and saves a while after SIGTERM; the shell exits at once.
    '(trap \'sleep 1; echo "lane $2 saved" >> "$1/stopped"; exit 0\' TERM; while true; do sleep 0.1; done) &',
    'trap \'echo "lane $2 stopped" >> "$1/stopped"; exit 0\' TERM',
    'echo "lane $2 working"',
    'while true; do sleep 0.1; done',
  ]);
  const pids = (): number[] => [1, 2].map((lane) => Number(readFileSync(join(out, `lane${lane}.pid`), 'utf8')));

  const ownGroup = (): string => (existsSync('/proc/self/autogroup') ? readFileSync('/proc/self/autogroup', 'utf8') : '');
  const before = ownGroup();
  assert.equal(lanes('start').status, 0);
  const started = pids();
  // The lanes yield the CPU to other work, and the shell that started them keeps its priority.
  if (before) {
    const groupOf = (pid: number): string => readFileSync(`/proc/${pid}/autogroup`, 'utf8');
    for (const pid of started)
      await eventually(
        () => /nice 19/.test(groupOf(pid)),
        () => `lane ${pid}: ${groupOf(pid)}`,
      );
    assert.equal(ownGroup(), before);
  }
  assert.match(lanes('start').stdout, /lane 1 is running already[\s\S]*lane 2 is running already/);
  assert.deepEqual(pids(), started, 'a running lane is not started twice');
  const status = /lane 1: running \(process group \d+\): lane 1 working\nlane 2: running \(process group \d+\): lane 2 working/;
  await eventually(
    () => status.test(lanes('status').stdout),
    () => lanes('status').stdout,
  );

  assert.equal(lanes('pause').status, 0);
  for (const pid of started) await untilStopped(pid, true);
  assert.equal(lanes('resume').status, 0);
  for (const pid of started) await untilStopped(pid, false);

  // Stopped while paused: each lane still gets to act on SIGTERM.
  lanes('pause');
  const stop = lanes('stop');
  assert.equal(stop.status, 0);
  assert.match(stop.stdout, /every lane has stopped/);
  // stop returns once the children have saved, not when the lanes' shells exit.
  assert.deepEqual(readFileSync(join(out, 'stopped'), 'utf8').trim().split('\n').sort(), [
    'lane 1 saved',
    'lane 1 stopped',
    'lane 2 saved',
    'lane 2 stopped',
  ]);
  assert.match(lanes('status').stdout, /lane 1: not running\nlane 2: not running/);

  // A pid file from before (another boot) that names some other process group.
  const other = spawn('sleep', ['30'], { detached: true });
  writeFileSync(join(out, 'lane1.pid'), String(other.pid));
  assert.match(lanes('status').stdout, /lane 1: not running/);
  lanes('stop');
  assert.equal(other.exitCode, null, 'the other process is left running');
  assert.notEqual(stateOf(other.pid!), 'Z');
  other.kill();
});

test('stop --kill-after ends a lane whose process does not act on SIGTERM in time, and refuses other arguments', async (t) => {
  // Its "d2r" child is inside a long batch: SIGTERM would be acted on only when the batch ends, here never.
  const { lanes } = standInLanes(t, ["(trap '' TERM; while true; do sleep 0.1; done) &", 'echo "lane $2 working"', 'wait']);
  assert.equal(lanes('start').status, 0);
  await eventually(
    () => /lane 1 working[\s\S]*lane 2 working/.test(lanes('status').stdout),
    () => lanes('status').stdout,
  );
  const bad = lanes('stop', '--kill-after', 'soon');
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /only stop takes more than OUT: stop \[OUT\] \[--kill-after SECONDS\], got '--kill-after soon'/);
  assert.equal(lanes('status', '--kill-after', '1').status, 2);
  const stop = lanes('stop', '--kill-after', '1');
  assert.equal(stop.status, 0, stop.stdout);
  assert.match(stop.stdout, /still in a batch after 1 s: killed \(it resumes from its last save\)/);
  assert.match(stop.stdout, /every lane has stopped/);
  assert.match(lanes('status').stdout, /lane 1: not running\nlane 2: not running/);
});

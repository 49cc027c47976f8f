// Progress for long work: a redrawn bar with rate and ETA on a terminal, plain
// log lines (about every 10% or 30 s) when the output is a file or a pipe.
import type { WriteStream } from 'node:tty';

export type ProgressInfo = Record<string, number | string>;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function formatInfo(info: ProgressInfo): string {
  return Object.entries(info)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toFixed(4)) : v}`)
    .join('  ');
}

export class Progress {
  private done: number;
  private readonly start = performance.now();
  private lastLogged = -1;
  private lastLogTime = 0;
  private readonly isTty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'it',
    /** Items already done before this process began (a resumed epoch or evaluation): shown, not counted in the rate. */
    private readonly startAt = 0,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.done = startAt;
    this.isTty = Boolean((stream as WriteStream).isTTY) && process.env.CI !== 'true';
  }

  /** Advances by `step` items and shows the latest figures. */
  tick(step = 1, info: ProgressInfo = {}): void {
    this.done += step;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = (this.done - this.startAt) / Math.max(elapsed, 1e-9);
    const eta = (this.total - this.done) / rate;
    const fraction = this.total > 0 ? Math.min(this.done / this.total, 1) : 1;
    if (this.isTty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
      const line = `${this.label} [${bar}] ${this.done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ETA ${formatDuration(eta)}  ${formatInfo(info)}`;
      const columns = (this.stream as WriteStream).columns ?? 120;
      this.stream.write('\r' + line.slice(0, columns - 1).padEnd(columns - 1));
      return;
    }
    const decile = Math.floor(fraction * 10);
    const now = performance.now();
    if (decile > this.lastLogged || now - this.lastLogTime > 30_000 || this.done === this.total) {
      this.lastLogged = decile;
      this.lastLogTime = now;
      this.stream.write(
        `${this.label} ${this.done}/${this.total} (${Math.round(fraction * 100)}%) ${rate.toFixed(1)} ${this.unit}/s ETA ${formatDuration(eta)}  ${formatInfo(info)}\n`,
      );
    }
  }

  /** Closes the bar; returns the elapsed seconds. */
  finish(info: ProgressInfo = {}): number {
    const elapsed = (performance.now() - this.start) / 1000;
    if (this.isTty) this.stream.write('\r\x1b[2K');
    const resumed = this.startAt > 0 ? ` (${this.done - this.startAt} after resuming at ${this.startAt})` : '';
    this.stream.write(`${this.label} done: ${this.done} ${this.unit}${resumed} in ${formatDuration(elapsed)}  ${formatInfo(info)}\n`);
    return elapsed;
  }
}

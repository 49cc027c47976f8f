// `d2r report` as a library: buildReport reads runs and writes the page and
// its PNG charts. One run: RUN/report/index.html; several: report/index.html
// in the working directory, comparing them.
import { basename, dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { packageVersion } from '../io/runFacts.js';
import { curvesSpec, sweepSpec } from './charts.js';
import { galleryItems, gallerySvg } from './gallery.js';
import { renderPage, type Gallery } from './html.js';
import { loadRun, uniqueLabels, type Run } from './load.js';
import { inlineSvg, renderSvg, svgToPng } from './render.js';

export { ReportError } from './errors.js';
export { loadRun, type Run } from './load.js';

export interface ReportOptions {
  /** The HTML file, or a directory for index.html (default: RUN/report/index.html, or report/index.html for several runs). */
  out?: string | null;
  title?: string | null;
  /** Resolves relative paths (default: process.cwd()). */
  cwd?: string;
  /** The time stamped on the page (default: now). */
  now?: Date;
}

export interface ReportFiles {
  html: string;
  /** The PNG charts written next to the page. */
  pngs: string[];
}

/** Where the page goes: --out as a file when it ends in .html, else as a directory. */
export function reportPath(runs: Run[], out: string | null | undefined, cwd: string): string {
  if (out) {
    const path = resolve(cwd, out);
    return /\.html?$/i.test(path) ? path : join(path, 'index.html');
  }
  return runs.length === 1 ? join(runs[0]!.dir, 'report', 'index.html') : resolve(cwd, 'report', 'index.html');
}

/** Examples shown per run; the page stays light when an evaluation kept many. */
export const GALLERY_LIMIT = 24;

const slug = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';

export async function buildReport(runDirs: string[], options: ReportOptions = {}): Promise<ReportFiles> {
  if (runDirs.length === 0) throw new Error('buildReport needs at least one run directory');
  const cwd = options.cwd ?? process.cwd();
  const runs = runDirs.map((d) => loadRun(resolve(cwd, d)));
  if (runs.length > 1) uniqueLabels(runs);
  const html = reportPath(runs, options.out, cwd);
  const dir = dirname(html);
  // A page of its own name (--out DIR/page.html) names its charts after it, so that
  // the files of other pages (or the user's) in DIR stay: page-curves.png, ...
  const stem = basename(html).replace(/\.html?$/i, '');
  const prefix = stem.toLowerCase() === 'index' ? '' : `${stem}-`;
  const pngs: string[] = [];
  const writePng = async (name: string, svg: string, scale = 2): Promise<void> => {
    const path = join(dir, prefix + name);
    writeFileAtomic(path, await svgToPng(svg, scale));
    pngs.push(path);
  };

  const charts: Record<'curves' | 'sweep', string | null> = { curves: null, sweep: null };
  for (const [key, spec, file] of [
    ['curves', curvesSpec(runs), 'curves.png'],
    ['sweep', sweepSpec(runs), 'eps-sweep.png'],
  ] as const) {
    if (!spec) continue;
    const svg = await renderSvg(spec);
    await writePng(file, svg);
    charts[key] = inlineSvg(svg, `${key}-`);
  }

  const galleries: (Gallery | null)[] = [];
  for (const run of runs) {
    const examples = run.examples?.examples;
    if (!examples || examples.length === 0) {
      galleries.push(null);
      continue;
    }
    const items = galleryItems(examples.slice(0, GALLERY_LIMIT), run.eval?.classNames ?? null);
    // Tiles are upscaled already: the PNG at its own size, not zoomed again.
    await writePng(
      runs.length === 1 ? 'gallery.png' : `gallery-${slug(run.label)}.png`,
      gallerySvg(items, `Adversarial examples: ${run.label}`),
      1,
    );
    galleries.push({ items, total: examples.length });
  }

  const title =
    options.title ?? (runs.length === 1 ? `d2r report: ${runs[0]!.label}` : `d2r comparison: ${runs.map((r) => r.label).join(' vs ')}`);
  const page = renderPage({
    title,
    generatedAt: options.now ?? new Date(),
    generator: `d2r ${packageVersion()}`,
    runs,
    curvesSvg: charts.curves,
    sweepSvg: charts.sweep,
    galleries,
    pngs: pngs.map((p) => basename(p)),
  });
  writeFileAtomic(html, page);
  return { html, pngs };
}

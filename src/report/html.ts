// The report page: one self-contained HTML file. Charts are inline SVG, images
// data: URIs, the style inline; there is no script, and a Content-Security-Policy
// forbids the page any request, so it opens offline and shows the same
// everywhere. Every piece of text from the run files is escaped.
import { basename } from 'node:path';
import * as fmt from './format.js';
import { dataUri, type GalleryItem } from './gallery.js';
import { hasGuidance, RUN_FILES, type Run } from './load.js';
import type { AttackRow, EpochRecord, EvalResult } from './schema.js';
import { evalHint, sweepHint, trainHint } from './hints.js';

export interface PageInput {
  title: string;
  generatedAt: Date;
  /** e.g. "d2r 0.1.0". */
  generator: string;
  runs: Run[];
  curvesSvg: string | null;
  sweepSvg: string | null;
  /** Per run, aligned with runs: its gallery, or null when it has no examples. */
  galleries: (Gallery | null)[];
  /** File names of the PNG charts written next to the page. */
  pngs: string[];
}

export interface Gallery {
  items: GalleryItem[];
  /** How many examples the evaluation kept (items may show fewer). */
  total: number;
}

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const esc = escapeHtml;
const code = (s: string): string => `<code>${esc(s)}</code>`;
const pre = (s: string): string => `<pre><code>${esc(s)}</code></pre>`;
const num = (s: string): string => `<td class="num">${esc(s)}</td>`;
const cell = (s: string): string => `<td>${esc(s)}</td>`;

/** A table; header cells are escaped, body cells are HTML already (build them with cell/num). No head when empty. */
function table(head: string[], rows: string[][], cls = ''): string {
  const thead = head.length ? `<thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>` : '';
  const tbody = `<tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}</tbody>`;
  return `<table${cls ? ` class="${cls}"` : ''}>${thead}\n${tbody}</table>`;
}

function missing(what: string, hint: string): string {
  return `<p class="missing">${what} Produce it with ${code(hint)}.</p>`;
}

const STYLE = `
:root { --fg: #1d2329; --muted: #5b6670; --line: #d9dee3; --panel: #ffffff; --bg: #f5f6f8; --warn: #fff4d6; --warn-line: #e0b13a; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
header h1 { font-size: 1.7rem; margin: 8px 0 2px; }
.meta { color: var(--muted); margin: 0 0 8px; }
nav a { margin-right: 14px; color: #2f6db5; text-decoration: none; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 20px 18px; margin: 16px 0; overflow-x: auto; }
h2 { font-size: 1.3rem; margin: 4px 0 12px; }
h3 { font-size: 1.05rem; margin: 18px 0 8px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 6px 0 10px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 12px 4px 0; text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; }
table.facts th { width: 11em; }
pre { background: #eef1f4; padding: 8px 12px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; margin: 4px 0 10px; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--muted); }
.missing { background: #f0f2f5; border-left: 4px solid #9aa5b1; padding: 8px 12px; margin: 8px 0; }
ul.warnings { padding: 0; list-style: none; } ul.warnings li { background: var(--warn); border-left: 4px solid var(--warn-line); padding: 6px 10px; margin: 4px 0; }
figure { margin: 8px 0; } figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.9rem; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
figure.example { border: 1px solid var(--line); border-radius: 6px; padding: 8px; margin: 0; }
.triple { display: flex; gap: 6px; }
.triple div { text-align: center; font-size: 0.75rem; color: var(--muted); }
.triple img { display: block; width: 96px; height: 96px; image-rendering: pixelated; border: 1px solid var(--line); }
.wrong { color: #b3261e; font-weight: 600; }
footer { color: var(--muted); font-size: 0.85rem; }
`;

/** A setting of the run's configuration, or null. */
const setting = (run: Run, key: string): unknown => run.facts.config[key] ?? null;

function lastEpoch(run: Run): EpochRecord | null {
  return run.metrics.epochs.at(-1) ?? null;
}

function modelText(run: Run): string {
  const model = fmt.configValue(setting(run, 'model'));
  return hasGuidance(run) ? `${model} (guidance ${fmt.configValue(setting(run, 'guidance'))})` : model;
}

function epochsText(run: Run): string {
  const done = lastEpoch(run)?.epoch ?? 0;
  const planned = setting(run, 'epochs');
  return typeof planned === 'number' ? `${done} of ${planned}` : String(done);
}

function budgetText(facts: { config: Record<string, unknown> }): string {
  const eps = facts.config['epsilon'];
  return `${fmt.epsilon(typeof eps === 'number' ? eps : null)} (${fmt.configValue(facts.config['norm'] ?? 'linf')})`;
}

function commandsOf(run: Run): string {
  const out = [`<h3>Reproduce</h3>`];
  out.push(`<p>Train (seed ${esc(fmt.configValue(run.facts.seed))}):</p>`, pre(run.facts.command ?? trainHint(run)));
  if (run.facts.command === null)
    out.push(`<p class="missing">config.json does not record the command; the line above is rebuilt from its settings.</p>`);
  if (run.eval)
    out.push(`<p>Evaluate (seed ${esc(fmt.configValue(run.eval.facts.seed))}):</p>`, pre(run.eval.facts.command ?? evalHint(run)));
  if (run.sweep) out.push(`<p>Epsilon sweep:</p>`, pre(run.sweep.facts.command ?? sweepHint(run)));
  return out.join('\n');
}

function settingsTable(config: Record<string, unknown>): string {
  const rows = Object.entries(config)
    .filter(([k]) => k !== 'positionals')
    .map(([k, v]) => [cell(k), cell(fmt.configValue(v))]);
  return table(['setting', 'value'], rows);
}

function factsTable(run: Run): string {
  const f = run.facts;
  const rows: [string, string][] = [
    ['run directory', run.dir],
    ['method', fmt.configValue(setting(run, 'method'))],
    ['model', modelText(run)],
    ['data set', fmt.configValue(setting(run, 'dataset'))],
    ['epochs', epochsText(run)],
    ['training budget', budgetText(f)],
    ['seed', fmt.configValue(f.seed)],
    ['started', f.startedAt ?? '—'],
    ['host, threads', `${f.host ?? '—'}, ${fmt.configValue(f.threads)}`],
    [
      'versions',
      Object.entries(f.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || '—',
    ],
  ];
  const resumes = run.metrics.segments.length - 1;
  if (resumes > 0)
    rows.push([
      'resumed',
      `${resumes} time${resumes > 1 ? 's' : ''} (after epoch ${run.metrics.segments
        .slice(1)
        .map((s) => fmt.configValue(s.resumedAfterEpoch) + (s.resumedAtBatch === null ? '' : ` (batch ${s.resumedAtBatch} of the next)`))
        .join(', ')})`,
    ]);
  return table(
    [],
    rows.map(([k, v]) => [`<th>${esc(k)}</th>`, cell(v)]),
    'facts',
  );
}

function runSection(runs: Run[]): string {
  if (runs.length === 1) {
    const run = runs[0]!;
    return `<section id="run"><h2>Run ${esc(run.label)}</h2>
${factsTable(run)}
${commandsOf(run)}
<details><summary>All settings of d2r train</summary>${settingsTable(run.facts.config)}</details>
</section>`;
  }
  const summary = runs.map((r) => {
    const last = lastEpoch(r);
    return [
      cell(r.label),
      cell(fmt.configValue(setting(r, 'method'))),
      cell(modelText(r)),
      cell(fmt.configValue(setting(r, 'dataset'))),
      num(epochsText(r)),
      cell(budgetText(r.facts)),
      num(fmt.configValue(r.facts.seed)),
      num(fmt.percent(last?.testCleanAccuracy)),
      num(fmt.percent(last?.testRobustAccuracy)),
      // Another model's evaluation is marked where its numbers stand (the attack section says why).
      ...[r.eval?.cleanAccuracy, r.eval?.robustAccuracy].map((v) => num(fmt.percent(v) + (r.evalMismatch ? ' (other weights)' : ''))),
    ];
  });
  // Settings that differ between runs are what the comparison is about.
  const ignored = new Set(['out', 'positionals', 'config', 'resume']);
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.facts.config)))].filter((k) => !ignored.has(k));
  const differing = keys.filter((k) => new Set(runs.map((r) => JSON.stringify(r.facts.config[k] ?? null))).size > 1);
  const diffTable = differing.length
    ? table(
        ['setting', ...runs.map((r) => r.label)],
        differing.map((k) => [cell(k), ...runs.map((r) => cell(fmt.configValue(r.facts.config[k])))]),
      )
    : '<p>The runs have the same settings.</p>';
  const details = runs
    .map(
      (r) =>
        `<details><summary>${esc(r.label)}: facts, commands and all settings</summary>${factsTable(r)}${commandsOf(r)}${settingsTable(r.facts.config)}</details>`,
    )
    .join('\n');
  return `<section id="run"><h2>Runs</h2>
${table(['run', 'method', 'model', 'data set', 'epochs', 'training budget', 'seed', 'last test clean', 'last test robust', 'eval clean', 'eval robust'], summary)}
<h3>Settings that differ</h3>
${diffTable}
${details}
</section>`;
}

function epochTable(run: Run): string {
  const guidance = hasGuidance(run);
  const terms = [...new Set(run.metrics.epochs.flatMap((e) => Object.keys(e.terms)))];
  const head = [
    'epoch',
    'lr',
    'loss',
    ...terms,
    'train acc.',
    'test clean',
    'test robust',
    ...(guidance ? ['guidance clean', 'guidance robust'] : []),
    'eval points',
    'time',
  ];
  const rows = run.metrics.epochs.map((e) => [
    num(String(e.epoch)),
    num(fmt.number(e.lr)),
    num(fmt.number(e.trainLoss)),
    ...terms.map((t) => num(fmt.number(e.terms[t]))),
    num(fmt.percent(e.trainAccuracy)),
    num(fmt.percent(e.testCleanAccuracy)),
    num(fmt.percent(e.testRobustAccuracy)),
    ...(guidance ? [num(fmt.percent(e.guidanceCleanAccuracy)), num(fmt.percent(e.guidanceRobustAccuracy))] : []),
    num(fmt.number(e.evalPoints)),
    num(fmt.seconds(e.seconds)),
  ]);
  return table(head, rows);
}

function curvesSection(p: PageInput): string {
  const notes = p.runs
    .filter((r) => r.metrics.epochs.length === 0)
    .map((r) =>
      missing(
        `${code(r.label)}: ${code(RUN_FILES.metrics)} has no finished epoch yet (d2r train writes one line per epoch).`,
        trainHint(r),
      ),
    );
  const chart = p.curvesSvg
    ? `<figure class="chart" data-chart="curves">${p.curvesSvg}<figcaption>Training loss, and clean and robust accuracy on the test points evaluated after each epoch${p.runs.some(hasGuidance) ? ' (the guidance model too, for two-model methods)' : ''}. Robust accuracy here is the per-epoch PGD check of d2r train; the attack table below has the final evaluation.</figcaption></figure>`
    : '';
  const tables = p.runs
    .filter((r) => r.metrics.epochs.length > 0)
    .map((r) => `<details><summary>Numbers per epoch${p.runs.length > 1 ? ` of ${esc(r.label)}` : ''}</summary>${epochTable(r)}</details>`)
    .join('\n');
  return `<section id="curves"><h2>Training curves</h2>\n${chart}\n${notes.join('\n')}\n${tables}</section>`;
}

function sweepSection(p: PageInput): string {
  const withSweep = p.runs.filter((r) => r.sweep && r.sweep.points.length > 0);
  const notes = p.runs
    .filter((r) => !withSweep.includes(r))
    .map((r) =>
      missing(`${code(r.label)}: no ${code(RUN_FILES.sweep)} ${r.sweep ? '(it holds no epsilon)' : 'in the run directory'}.`, sweepHint(r)),
    );
  let body = '';
  if (p.sweepSvg) {
    const eps = [...new Set(withSweep.flatMap((r) => r.sweep!.points.map((q) => q.epsilon)))].sort((a, b) => a - b);
    const rows = eps.map((e) => [
      num(fmt.epsilon(e)),
      ...withSweep.map((r) => num(fmt.percent(r.sweep!.points.find((q) => q.epsilon === e)?.robustAccuracy))),
    ]);
    const attacks = [...new Set(withSweep.flatMap((r) => r.sweep!.points.flatMap((q) => q.attacks.map((a) => a.name))))];
    const warnings = withSweep.flatMap((r) => r.sweep!.warnings.map((w) => (p.runs.length > 1 ? `${r.label}: ${w}` : w)));
    body = `<figure class="chart" data-chart="eps-sweep">${p.sweepSvg}<figcaption>Robust accuracy (worst case over ${esc(attacks.join(', ') || 'the attacks')}) at each attack budget, from ${code('d2r eval --eps-sweep')}.</figcaption></figure>
<details><summary>Numbers</summary>${table(['epsilon', ...withSweep.map((r) => r.label)], rows)}</details>
${warningList(warnings)}`;
  }
  return `<section id="eps-sweep"><h2>Robust accuracy against epsilon</h2>\n${body}\n${notes.join('\n')}</section>`;
}

function warningList(warnings: string[]): string {
  return warnings.length ? `<ul class="warnings">${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
}

function evalSettings(ev: EvalResult): string {
  const c = ev.facts.config;
  const points = ev.points?.index.length ?? (typeof c['n'] === 'number' ? c['n'] : null);
  const parts = [
    `${points ?? '?'} ${fmt.configValue(c['split'] ?? 'test')} points of ${fmt.configValue(c['dataset'])}`,
    `epsilon ${budgetText(ev.facts)}`,
    ev.protocol === 'reference'
      ? 'protocol reference (the official D2R evaluation: PGD/CW stop moving a point once it is misclassified)'
      : 'protocol ours (PGD/CW move every point all their steps)',
    `seed ${fmt.configValue(ev.facts.seed)}`,
    `${fmt.seconds(ev.seconds)} in all`,
  ];
  return parts.join(' · ');
}

/** The attacks of AutoAttack (apgd-ce, apgd-t, apgd-dlr, fab, fab-t, square). */
const AUTOATTACK = /^(apgd|fab|square)/;

/** Per attack, how many points it was the first to fool (from points.brokenBy). */
function brokenCounts(ev: EvalResult): Map<string, number> | null {
  if (!ev.points?.brokenBy) return null;
  const counts = new Map<string, number>();
  for (const b of ev.points.brokenBy) if (b !== null) counts.set(b, (counts.get(b) ?? 0) + 1);
  return counts;
}

function attackSection(p: PageInput): string {
  const withEval = p.runs.filter((r) => r.eval);
  const notes = p.runs
    .filter((r) => !r.eval)
    .map((r) => missing(`${code(r.label)}: no ${code(RUN_FILES.eval)} in the run directory.`, evalHint(r)));
  let body = '';
  if (p.runs.length === 1 && withEval.length === 1) {
    const ev = withEval[0]!.eval!;
    const counts = brokenCounts(ev);
    let previous = ev.cleanAccuracy;
    const rows = [[cell('clean (no attack)'), num(fmt.percent(ev.cleanAccuracy)), num('—'), ...(counts ? [num('—')] : []), num('—')]];
    for (const a of ev.attacks) {
      rows.push([
        cell(a.name),
        num(fmt.percent(a.robustAccuracy)),
        num(fmt.points(a.robustAccuracy - previous)),
        ...(counts ? [num(String(counts.get(a.name) ?? 0))] : []),
        num(fmt.seconds(a.seconds)),
      ]);
      previous = a.robustAccuracy;
    }
    const head = ['after', 'accuracy', 'change', ...(counts ? ['points it broke'] : []), 'time'];
    body = `<p>${esc(evalSettings(ev))}</p>
${table(head, rows)}
<p>Robust accuracy: <strong>${esc(fmt.percent(ev.robustAccuracy))}</strong>${ev.attacks.length === 0 ? ' (no attack ran)' : ''}. Each attack runs on the points still robust after the ones above it, so each row is the worst case so far.</p>
${ev.warnings.length ? '<h3>Warnings from the checks</h3>' : '<p>The checks raised no warning.</p>'}
${warningList(ev.warnings)}`;
  } else if (withEval.length > 0) {
    const names = [...new Set(withEval.flatMap((r) => r.eval!.attacks.map((a) => a.name)))];
    const find = (rows: AttackRow[], name: string): AttackRow | undefined => rows.find((a) => a.name === name);
    const rows = [
      [cell('clean (no attack)'), ...withEval.map((r) => num(fmt.percent(r.eval!.cleanAccuracy)))],
      ...names.map((n) => [cell(n), ...withEval.map((r) => num(fmt.percent(find(r.eval!.attacks, n)?.robustAccuracy)))]),
      [`<th>robust accuracy</th>`, ...withEval.map((r) => `<th class="num">${esc(fmt.percent(r.eval!.robustAccuracy))}</th>`)],
    ];
    const settings = withEval.map((r) => `<li>${esc(r.label)}: ${esc(evalSettings(r.eval!))}</li>`).join('');
    const warnings = withEval.flatMap((r) => r.eval!.warnings.map((w) => `${r.label}: ${w}`));
    body = `${table(['after', ...withEval.map((r) => r.label)], rows)}
<ul>${settings}</ul>
<p>Each attack runs on the points still robust after the ones above it; a dash: the run's evaluation did not use that attack.</p>
${warnings.length ? '<h3>Warnings from the checks</h3>' : '<p>The checks raised no warning.</p>'}
${warningList(warnings)}`;
  }
  const autoAttack = withEval.some((r) => r.eval!.attacks.some((a) => AUTOATTACK.test(a.name)));
  // Before the numbers: an evaluation of other weights than the run holds is not the run's.
  const mismatches = withEval.flatMap((r) =>
    r.evalMismatch ? [p.runs.length > 1 ? `${r.label}: ${r.evalMismatch}` : r.evalMismatch] : [],
  );
  return `<section id="attacks"><h2>Accuracy under attack${autoAttack ? ' (AutoAttack)' : ''}</h2>\n${warningList(mismatches)}${body}\n${notes.join('\n')}</section>`;
}

function exampleFigure(item: GalleryItem): string {
  const e = item.example;
  const tile = (label: string, png: Buffer, alt: string): string =>
    `<div><img src="${dataUri(png)}" width="96" height="96" alt="${esc(alt)}">${esc(label)}</div>`;
  const amp = item.amplification ? `perturbation ×${item.amplification.toFixed(1)}` : 'no perturbation';
  const cleanWrong = e.cleanPrediction !== e.label;
  return `<figure class="example">
<div class="triple">${tile('clean', item.clean, `clean image, true class ${item.trueName}`)}${tile(amp, item.perturbation, `perturbation, largest change ${fmt.number(item.linf)}`)}${tile('adversarial', item.adversarial, `adversarial image, predicted ${item.adversarialName}`)}</div>
<figcaption>true: <strong>${esc(item.trueName)}</strong> · clean: <span${cleanWrong ? ' class="wrong"' : ''}>${esc(item.cleanName)}</span> · adversarial: <span class="wrong">${esc(item.adversarialName)}</span><br>by ${code(e.attack)} · point #${esc(String(e.index))} · largest change ${esc(fmt.number(item.linf))}</figcaption>
</figure>`;
}

function gallerySection(p: PageInput): string {
  const parts = p.runs.map((run, i) => {
    const heading = p.runs.length > 1 ? `<h3>${esc(run.label)}</h3>` : '';
    const gallery = p.galleries[i];
    if (gallery && gallery.items.length > 0) {
      const more =
        gallery.total > gallery.items.length
          ? `<p>The first ${gallery.items.length} of the ${gallery.total} examples the evaluation kept.</p>`
          : '';
      return `${heading}<div class="gallery">${gallery.items.map(exampleFigure).join('\n')}</div>${more}`;
    }
    if (!run.examples)
      return heading + missing(`${code(run.label)}: no ${code(RUN_FILES.eval)}, so no adversarial examples.`, evalHint(run));
    if (run.examples.examples === null) return heading + missing(`${code(run.label)}: ${esc(run.examples.missing)}.`, evalHint(run));
    return heading + `<p class="missing">${code(run.label)}: the evaluation kept no example (no point was broken).</p>`;
  });
  return `<section id="gallery"><h2>Adversarial examples</h2>
<p>Test points the attacks broke: the clean image, the perturbation (amplified around grey so that it is visible) and the adversarial image, with the true class, the predictions and the first attack that succeeded.</p>
${parts.join('\n')}</section>`;
}

export function renderPage(p: PageInput): string {
  const sections = [runSection(p.runs), curvesSection(p), sweepSection(p), attackSection(p), gallerySection(p)];
  const nav = [
    ['run', p.runs.length > 1 ? 'Runs' : 'Run'],
    ['curves', 'Training curves'],
    ['eps-sweep', 'Accuracy against epsilon'],
    ['attacks', 'Attacks'],
    ['gallery', 'Examples'],
  ]
    .map(([id, text]) => `<a href="#${id}">${esc(text!)}</a>`)
    .join('');
  const pngs = p.pngs.length ? ` The charts are also next to this file as ${p.pngs.map((f) => code(basename(f))).join(', ')}.` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>${esc(p.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<header>
<h1>${esc(p.title)}</h1>
<p class="meta">Generated ${esc(p.generatedAt.toISOString())} by ${esc(p.generator)} from ${p.runs.length} run${p.runs.length > 1 ? 's' : ''}.</p>
<nav>${nav}</nav>
</header>
${sections.join('\n')}
<footer><p>A self-contained page: it loads nothing from the network.${pngs}</p></footer>
</main>
</body>
</html>
`;
}

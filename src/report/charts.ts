// The report's charts as Vega-Lite specs: training curves (loss; clean and
// robust test accuracy of the target and, for two-model methods, the guidance
// model) and robust accuracy against the attack budget. One line per run when
// several runs are compared.
import type { TopLevelSpec } from 'vega-lite';
import { hasGuidance, type Run } from './load.js';

const WIDTH = 340;
const HEIGHT = 230;
const EPOCH_AXIS = { title: 'epoch', tickMinStep: 1, format: 'd' };
const ACCURACY_AXIS = { format: '.0%' };
const CHART_CONFIG: TopLevelSpec['config'] = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
};

/** One chart of a horizontal concatenation. */
type Panel = Extract<TopLevelSpec, { hconcat: unknown }>['hconcat'][number];

/** What every chart here shares: a titled line chart with points over inline rows. */
function lineChart(title: string, values: object[], width = WIDTH, height = HEIGHT) {
  return { title, width, height, data: { values }, mark: { type: 'line' as const, point: true } };
}

export interface LossRow {
  run: string;
  epoch: number;
  loss: number;
}

export interface AccuracyRow {
  /** The line's name: the model (one run) or the run, with the model for guidance models (several runs). */
  series: string;
  metric: 'clean' | 'robust';
  epoch: number;
  accuracy: number;
}

/** The names of a run's accuracy lines: the model (one run) or the run, with the model for guidance models (several runs). */
function seriesNames(run: Run, several: boolean): { target: string; guidance: string | null } {
  const guidance = hasGuidance(run);
  const model = String(run.facts.config['model'] ?? 'model');
  return {
    target: several ? run.label : guidance ? `target (${model})` : model,
    guidance: !guidance ? null : several ? `${run.label} · guidance` : `guidance (${String(run.facts.config['guidance'] ?? 'guidance')})`,
  };
}

export function curveRows(runs: Run[]): { loss: LossRow[]; accuracy: AccuracyRow[] } {
  const several = runs.length > 1;
  const loss: LossRow[] = [];
  const accuracy: AccuracyRow[] = [];
  for (const run of runs) {
    const names = seriesNames(run, several);
    const add = (series: string | null, metric: AccuracyRow['metric'], epoch: number, v: number | null): void => {
      if (series !== null && v !== null) accuracy.push({ series, metric, epoch, accuracy: v });
    };
    for (const e of run.metrics.epochs) {
      if (e.trainLoss !== null) loss.push({ run: run.label, epoch: e.epoch, loss: e.trainLoss });
      add(names.target, 'clean', e.epoch, e.testCleanAccuracy);
      add(names.target, 'robust', e.epoch, e.testRobustAccuracy);
      add(names.guidance, 'clean', e.epoch, e.guidanceCleanAccuracy);
      add(names.guidance, 'robust', e.epoch, e.guidanceRobustAccuracy);
    }
  }
  return { loss, accuracy };
}

/** Training loss and test accuracy per epoch, side by side; null when no epoch has either. */
export function curvesSpec(runs: Run[]): TopLevelSpec | null {
  const { loss, accuracy } = curveRows(runs);
  if (loss.length === 0 && accuracy.length === 0) return null;
  const several = runs.length > 1;
  // Lines in the order of the runs, target before guidance (not alphabetically);
  // both panels name the same domain so that they agree on colours.
  const series = runs.flatMap((r) => {
    const names = seriesNames(r, several);
    return names.guidance === null ? [names.target] : [names.target, names.guidance];
  });
  // Several runs share one colour scale, so a run has the same colour in both panels.
  const lossChart: Panel = {
    ...lineChart('Training loss', loss),
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: EPOCH_AXIS },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: false } },
      ...(several ? { color: { field: 'run', type: 'nominal', title: 'run', scale: { domain: series } } } : {}),
    },
  };
  const accuracyChart: Panel = {
    ...lineChart('Test accuracy', accuracy),
    encoding: {
      x: { field: 'epoch', type: 'quantitative', axis: EPOCH_AXIS },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: ACCURACY_AXIS },
      color: { field: 'series', type: 'nominal', title: several ? 'run' : 'model', scale: { domain: series } },
      strokeDash: {
        field: 'metric',
        type: 'nominal',
        title: 'accuracy',
        scale: { domain: ['clean', 'robust'] },
        legend: { symbolType: 'stroke', symbolStrokeWidth: 2, encoding: { symbols: { stroke: { value: '#555' } } } },
      },
    },
  };
  const charts = [...(loss.length > 0 ? [lossChart] : []), ...(accuracy.length > 0 ? [accuracyChart] : [])];
  return { config: CHART_CONFIG, hconcat: charts, resolve: { scale: { color: several ? 'shared' : 'independent' } } };
}

export interface SweepRow {
  run: string;
  epsilon: number;
  accuracy: number;
}

export function sweepRows(runs: Run[]): SweepRow[] {
  return runs.flatMap((run) =>
    (run.sweep?.points ?? []).flatMap((p) =>
      p.robustAccuracy === null ? [] : [{ run: run.label, epsilon: p.epsilon, accuracy: p.robustAccuracy }],
    ),
  );
}

/** Robust accuracy against epsilon, one line per run; null when no run has a sweep. */
export function sweepSpec(runs: Run[]): TopLevelSpec | null {
  const rows = sweepRows(runs);
  if (rows.length === 0) return null;
  const norms = [
    ...new Set(runs.filter((r) => r.sweep).map((r) => String(r.sweep!.facts.config['norm'] ?? r.facts.config['norm'] ?? ''))),
  ].filter((n) => n !== '');
  const several = runs.length > 1;
  return {
    config: CHART_CONFIG,
    ...lineChart('Robust accuracy against the attack budget', rows, WIDTH + 80, HEIGHT + 20),
    encoding: {
      x: { field: 'epsilon', type: 'quantitative', title: norms.length === 1 ? `epsilon (${norms[0]})` : 'epsilon' },
      y: { field: 'accuracy', type: 'quantitative', title: 'robust accuracy', scale: { domain: [0, 1] }, axis: ACCURACY_AXIS },
      ...(several ? { color: { field: 'run', type: 'nominal', title: 'run' } } : {}),
    },
  };
}

// How numbers read in the report: accuracies as percentages, budgets as the
// fractions of 255 they usually are, durations in s/min/h.

export const percent = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined ? '—' : `${(100 * v).toFixed(digits)}%`;

/** 0.03137 -> "0.0314 (8/255)"; round budgets (0.1, 0.2 = 51/255) and others as plain numbers. */
export function epsilon(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const k = v * 255;
  const plain = Number(v.toPrecision(4)).toString();
  const round = Math.abs(v * 1000 - Math.round(v * 1000)) < 1e-9;
  return v > 0 && !round && Math.abs(k - Math.round(k)) < 1e-6 ? `${plain} (${Math.round(k)}/255)` : plain;
}

export function seconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (v < 60) return `${v.toFixed(1)} s`;
  if (v < 3600) return `${(v / 60).toFixed(1)} min`;
  return `${(v / 3600).toFixed(2)} h`;
}

/** A number in a table: up to 4 significant digits, exponent form for tiny or huge values. */
export function number(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

/** A configuration value as the user wrote it on the command line. */
export function configValue(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(',');
  return JSON.stringify(v);
}

/** A difference of two accuracies, in percentage points: -0.3 -> "−30.00 pp". */
export const points = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined ? '—' : `${v < 0 ? '−' : v > 0 ? '+' : ''}${Math.abs(100 * v).toFixed(digits)} pp`;

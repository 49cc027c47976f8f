// Rendering charts: Vega-Lite spec -> Vega -> SVG in Node (no canvas, no
// browser), and SVG -> PNG with resvg for the README. The three libraries are
// optional peer dependencies (heavy, and only reports need them), loaded on
// first use, so that a project that only trains or attacks never installs them.
import type * as Vega from 'vega';
import type * as VegaLite from 'vega-lite';
import type * as ResvgJs from '@resvg/resvg-js';
import type { LoggerInterface } from 'vega';
import type { TopLevelSpec } from 'vega-lite';

/** The packages a report needs beyond d2r's own dependencies. */
export const CHART_PACKAGES = ['vega', 'vega-lite', '@resvg/resvg-js'] as const;

interface ChartLibraries {
  vega: typeof Vega;
  vegaLite: typeof VegaLite;
  resvg: typeof ResvgJs;
}

let chartLibraries: Promise<ChartLibraries> | null = null;

/** Raised when a report is asked for and the optional chart packages are not installed. */
export class MissingChartPackagesError extends Error {
  constructor(readonly missing: string[]) {
    super(
      `reports need the optional packages ${CHART_PACKAGES.join(', ')}; not installed: ${missing.join(', ')} ` +
        `(install them next to d2r: npm install ${CHART_PACKAGES.join(' ')})`,
    );
    this.name = 'MissingChartPackagesError';
  }
}

/** Imports a package by name (the default: Node's own import). */
export type PackageImporter = (name: string) => Promise<unknown>;

/** The chart libraries through `importer`, or an error naming every missing one. */
export async function importChartLibraries(importer: PackageImporter): Promise<ChartLibraries> {
  const missing: string[] = [];
  const [vega, vegaLite, resvg] = await Promise.all(
    CHART_PACKAGES.map(async (name) => {
      try {
        return await importer(name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
        missing.push(name);
        return null;
      }
    }),
  );
  if (missing.length > 0) throw new MissingChartPackagesError(missing);
  return { vega, vegaLite, resvg } as ChartLibraries;
}

/** The chart libraries, imported once. */
export function loadChartLibraries(): Promise<ChartLibraries> {
  chartLibraries ??= importChartLibraries((name) => import(name));
  return chartLibraries;
}

/**
 * Keeps Vega's messages off the console (they would mix with the command's
 * output; e.g. merging the legends of line and point marks warns every time).
 * Real failures still throw.
 */
export class CollectingLogger implements LoggerInterface {
  readonly messages: string[] = [];
  private current = 2;
  level(_?: number): number | LoggerInterface {
    if (_ === undefined) return this.current;
    this.current = _;
    return this;
  }
  private add(kind: string, args: unknown[]): this {
    this.messages.push(`${kind}: ${args.map(String).join(' ')}`);
    return this;
  }
  error(...args: unknown[]): this {
    return this.add('error', args);
  }
  warn(...args: unknown[]): this {
    return this.add('warning', args);
  }
  info(..._args: unknown[]): this {
    return this;
  }
  debug(..._args: unknown[]): this {
    return this;
  }
}

export async function renderSvg(spec: TopLevelSpec, logger = new CollectingLogger()): Promise<string> {
  const { vega, vegaLite } = await loadChartLibraries();
  const view = new vega.View(vega.parse(vegaLite.compile(spec, { logger }).spec), { renderer: 'none', logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * PNG of an SVG at `scale` times its size. Text uses the system fonts; DejaVu
 * Sans (fonts-dejavu-core, installed by scripts/setup-system.sh) stands in for
 * the generic families so the output does not depend on the first font found.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { resvg: resvgModule } = await loadChartLibraries();
  const resvg = new resvgModule.Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans', monospaceFamily: 'DejaVu Sans Mono' },
    logLevel: 'off',
  });
  return resvg.render().asPng();
}

/**
 * Prefixes the ids of an SVG and the references to them, so that several
 * inline SVGs of one page (each numbering its clip paths from 1) cannot
 * capture one another's references.
 */
export function namespaceIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${prefix}${id})`)
    .replace(/\b(xlink:href|href)="#([^"]+)"/g, (_, attr: string, id: string) => `${attr}="#${prefix}${id}"`);
}

/** The SVG without its XML namespace declarations, which HTML does not need for inline SVG. */
export function inlineSvg(svg: string, prefix: string): string {
  return namespaceIds(svg, prefix).replace(
    /^<svg([^>]*)>/,
    (_, attrs: string) => `<svg${attrs.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '')}>`,
  );
}

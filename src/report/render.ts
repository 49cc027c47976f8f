// Rendering charts: Vega-Lite spec -> Vega -> SVG in Node (no canvas, no
// browser), and SVG -> PNG with resvg for the README.
import { parse, View, type LoggerInterface } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

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
  const view = new View(parse(compile(spec, { logger }).spec), { renderer: 'none', logger });
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
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
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

/**
 * Reads Prometheus text exposition (format 0.0.4) into samples, and checks it the way a scraper
 * would: every sample line must parse, and HELP/TYPE come before their metric's samples.
 */
export interface MetricSample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:[0-9.eE+-]+|NaN|[+-]?Inf))$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;

export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const t = /^# TYPE (\S+) (gauge|counter)$/.exec(line);
    if (t) {
      typed.add(t[1]);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    if (!typed.has(m[1])) throw new Error(`sample before its TYPE line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL))
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/**
 * Go `time.ParseDuration` strings ("720h", "5m0s", "1h30m", "300ms"): Longhorn's poll interval and
 * Velero's ttl are decoded by Go, so a unitless "300" must be refused here, not in the cluster.
 */
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;

/** Seconds in a Go duration string, or undefined when Go would refuse it. "0" alone is valid in Go. */
export function parseGoDuration(text: string): number | undefined {
  if (typeof text !== "string") return undefined;
  if (text === "0" || text === "+0" || text === "-0") return 0;
  if (!GO_DURATION.test(text)) return undefined;
  const sign = text.startsWith("-") ? -1 : 1;
  let total = 0;
  for (const m of text.replace(/^[-+]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(m[1]) * UNIT_SECONDS[m[2]];
  }
  return sign * total;
}

/** The canonical form Go's `Duration.String()` prints for whole seconds: 300 → "5m0s", 2592000 → "720h0m0s". */
export function formatGoDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s === 0) return "0s";
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

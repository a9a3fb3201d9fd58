// Pure helpers for what pages show: relative times, counts, chart geometry, frames, snippets.

/** "3 minutes ago"-style text for an ISO time, relative to `now`. */
export function timeAgo(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) return '—';
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(seconds)) return '—';
  if (seconds < 60) return 'just now';
  const units: [number, string][] = [
    [365 * 86400, 'year'],
    [30 * 86400, 'month'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'just now';
}

/** 1234 → "1.2k", 2500000 → "2.5M". */
export function compact(n: number | string): string {
  const v = typeof n === 'string' ? Number(n) : n;
  if (!Number.isFinite(v)) return String(n);
  if (v < 1000) return String(v);
  if (v < 1_000_000) return `${(v / 1000).toFixed(v < 10_000 ? 1 : 0).replace(/\.0$/, '')}k`;
  return `${(v / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}

/** A local date-time people read: "2026-11-26 14:03:07". */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export type Series = [number, number][];

/** An SVG polyline's points for a series in a w×h box (zero at the bottom). */
export function sparkline(series: Series, w: number, h: number): string {
  if (series.length === 0) return '';
  const max = Math.max(1, ...series.map(([, n]) => n));
  const step = series.length > 1 ? w / (series.length - 1) : 0;
  return series
    .map(([, n], i) => `${+(i * step).toFixed(1)},${+(h - 1 - (n / max) * (h - 2)).toFixed(1)}`)
    .join(' ');
}

/** Bars for a series in a w×h box: x, width, height of each. */
export function bars(series: Series, w: number, h: number): { x: number; w: number; h: number; n: number; t: number }[] {
  if (series.length === 0) return [];
  const max = Math.max(1, ...series.map(([, n]) => n));
  const slot = w / series.length;
  const gap = slot > 4 ? 1 : 0;
  return series.map(([t, n], i) => ({
    x: +(i * slot).toFixed(2),
    w: +(slot - gap).toFixed(2),
    h: n === 0 ? 0 : Math.max(1, +((n / max) * h).toFixed(2)),
    n,
    t,
  }));
}

export interface Frame {
  filename?: string | null;
  absPath?: string | null;
  module?: string | null;
  package?: string | null;
  function?: string | null;
  rawFunction?: string | null;
  instructionAddr?: string | null;
  lineNo?: number | null;
  colNo?: number | null;
  inApp?: boolean | null;
  context?: [number, string | null][];
  vars?: Record<string, unknown> | null;
  symbolicated?: boolean | null;
}

/** The frames as people read them: most recent call first; only in-app ones unless `all`
 * (or when no frame is in-app, which would leave nothing). */
export function visibleFrames(frames: Frame[], all: boolean): Frame[] {
  const ordered = [...frames].reverse();
  if (all || !ordered.some((f) => f.inApp)) return ordered;
  return ordered.filter((f) => f.inApp);
}

/** Where a frame's code is: "app/views.py:42:7", "libc.so @ 0x1234" for native frames. */
export function frameLocation(f: Frame): string {
  const file = f.filename || f.absPath || f.module || f.package || '';
  const line = f.lineNo != null ? `:${f.lineNo}${f.colNo != null ? `:${f.colNo}` : ''}` : '';
  if (!file && f.instructionAddr) return f.instructionAddr;
  return `${file}${line}`;
}

export type Platform = 'python' | 'javascript' | 'node' | 'rust';

/** How to install the SDK and point it at the DSN, per platform. */
export function installSnippet(platform: Platform, dsn: string): { install: string; code: string } {
  const d = JSON.stringify(dsn);
  switch (platform) {
    case 'python':
      return {
        install: 'pip install sentry-sdk',
        code: `import sentry_sdk\n\nsentry_sdk.init(\n    dsn=${d},\n    environment="production",\n    release="my-app@1.0.0",\n)`,
      };
    case 'javascript':
      return {
        install: 'npm install @sentry/browser',
        code: `import * as Sentry from "@sentry/browser";\n\nSentry.init({\n  dsn: ${d},\n  environment: "production",\n  release: "my-app@1.0.0",\n});`,
      };
    case 'node':
      return {
        install: 'npm install @sentry/node',
        code: `const Sentry = require("@sentry/node");\n\nSentry.init({\n  dsn: ${d},\n  environment: "production",\n  release: "my-app@1.0.0",\n});`,
      };
    case 'rust':
      return {
        install: 'cargo add sentry',
        code: `let _guard = sentry::init((\n    ${d},\n    sentry::ClientOptions {\n        release: sentry::release_name!(),\n        ..Default::default()\n    },\n));`,
      };
  }
}

/** The level's display order (most severe first) for sorting and colours. */
export const LEVELS = ['fatal', 'error', 'warning', 'info', 'debug'] as const;

/** A sign-in's browser as people name it ("Firefox on Linux") from its User-Agent; other
 * clients by their first product token ("python-requests"). */
export function browserOf(userAgent: string | null | undefined): string {
  const ua = userAgent?.trim() ?? '';
  if (!ua) return 'Unknown browser';
  // Order matters: Edge and Opera say Chrome too, Chrome says Safari, Android says Linux.
  const browsers: [RegExp, string][] = [
    [/Edg(e|A|iOS)?\//, 'Edge'],
    [/OPR\/|Opera/, 'Opera'],
    [/Firefox\/|FxiOS\//, 'Firefox'],
    [/Chrom(e|ium)\/|CriOS\//, 'Chrome'],
    [/Version\/[\d.]+.*Safari\//, 'Safari'],
  ];
  const systems: [RegExp, string][] = [
    [/Windows/, 'Windows'],
    [/Android/, 'Android'],
    [/iPhone|iPad|iPod/, 'iOS'],
    [/Mac OS X|Macintosh/, 'macOS'],
    [/CrOS/, 'ChromeOS'],
    [/Linux|X11/, 'Linux'],
  ];
  const browser = browsers.find(([re]) => re.test(ua))?.[1];
  const system = systems.find(([re]) => re.test(ua))?.[1];
  if (!browser) return ua.split(/[\s/]/)[0] || 'Unknown browser';
  return system ? `${browser} on ${system}` : browser;
}

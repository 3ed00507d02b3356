// Run statistics as the stats screens show them: the window picker's choices,
// figures formatted for people, and the API's series turned into chart data
// (labels and one array per line or bar). Pure: no DOM, no chart library.
import type { components } from './api/schema';

export type StatsWindow = components['schemas']['StatsOut']['window'];
export type Summary = components['schemas']['StatsOut'];
export type Series = components['schemas']['SeriesOut'];
type Point = Series['points'][number];

export const WINDOWS: readonly { value: StatsWindow; label: string }[] = [
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
];

/** The window named in a query string (`?window=7d`), or 24 h. */
export function windowFrom(search: string): StatsWindow {
  const wanted = new URLSearchParams(search).get('window');
  return WINDOWS.find((w) => w.value === wanted)?.value ?? '24h';
}

/** 840 ms, 12.3 s, 4.5 min; a dash when there were no runs. */
export function formatMs(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 60_000) return `${(value / 1000).toFixed(1)} s`;
  if (value < 3_600_000) return `${(value / 60_000).toFixed(1)} min`;
  return `${(value / 3_600_000).toFixed(1)} h`;
}

/** 0.9512 → "95.1 %"; a dash without runs. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return `${(value * 100).toFixed(1)} %`;
}

/** A bucket's label: the hour (14:00) for hourly buckets, with the date when
 * the window spans days (Mar 3 14:00); the date alone for daily buckets. */
export function bucketLabel(at: string, bucketSeconds: number, spansDays: boolean): string {
  const moment = new Date(at);
  const day = moment.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });
  if (bucketSeconds >= 86_400) return day;
  const hour = moment.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
  return spansDays ? `${day} ${hour}` : hour;
}

export interface ChartData {
  labels: string[];
  byStatus: { succeeded: number[]; failed: number[]; cancelled: number[] };
  /** Percent, null where the bucket had no runs (a gap, not a zero). */
  successRate: (number | null)[];
  duration: { p50: (number | null)[]; p95: (number | null)[]; p99: (number | null)[] };
  queueLag: { p50: (number | null)[]; p95: (number | null)[]; p99: (number | null)[] };
}

function percentiles(points: Point[], pick: (p: Point) => Point['duration_ms']): ChartData['duration'] {
  return {
    p50: points.map((p) => pick(p).p50),
    p95: points.map((p) => pick(p).p95),
    p99: points.map((p) => pick(p).p99),
  };
}

export function chartData(series: Series): ChartData {
  const points = series.points;
  const first = points[0]?.at.slice(0, 10);
  const spansDays = first !== undefined && first !== points[points.length - 1]?.at.slice(0, 10);
  return {
    labels: points.map((p) => bucketLabel(p.at, series.bucket_seconds, spansDays)),
    byStatus: {
      succeeded: points.map((p) => p.succeeded),
      failed: points.map((p) => p.failed),
      cancelled: points.map((p) => p.cancelled),
    },
    successRate: points.map((p) => (p.success_rate === null ? null : Math.round(p.success_rate * 1000) / 10)),
    duration: percentiles(points, (p) => p.duration_ms),
    queueLag: percentiles(points, (p) => p.queue_lag_ms),
  };
}

/** One sentence for a screen reader, in place of the chart's picture. */
export function describeRuns(data: ChartData): string {
  const total = (values: number[]) => values.reduce((sum, v) => sum + v, 0);
  const succeeded = total(data.byStatus.succeeded);
  const failed = total(data.byStatus.failed);
  const cancelled = total(data.byStatus.cancelled);
  const busiest = data.labels.reduce(
    (best, label, i) => {
      const runs = (data.byStatus.succeeded[i] ?? 0) + (data.byStatus.failed[i] ?? 0) + (data.byStatus.cancelled[i] ?? 0);
      return runs > best.runs ? { label, runs } : best;
    },
    { label: '', runs: 0 },
  );
  const peak = busiest.runs > 0 ? `; busiest ${busiest.label} with ${busiest.runs}` : '';
  return `Runs by status over ${data.labels.length} buckets: ${succeeded} succeeded, ${failed} failed, ${cancelled} cancelled${peak}.`;
}

/** The worst value of a percentile line, described for a screen reader. */
export function describePercentiles(what: string, values: ChartData['duration']): string {
  const highest = (list: (number | null)[]) => list.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null);
  const p99 = highest(values.p99);
  if (p99 === null) return `${what}: no runs in this window.`;
  return `${what} per bucket; highest p50 ${formatMs(highest(values.p50))}, p95 ${formatMs(highest(values.p95))}, p99 ${formatMs(p99)}.`;
}

export interface Ranking {
  labels: string[];
  values: number[];
  description: string;
}

type NodeFigures = Summary['slowest_nodes'][number];

function nodeLabel(node: NodeFigures, oneWorkflow: boolean): string {
  return oneWorkflow ? node.node_id : `${node.workflow} · ${node.node_id}`;
}

/** The slowest nodes as bars of their mean step time (ms), slowest first. */
export function slowestRanking(summary: Summary, oneWorkflow: boolean): Ranking {
  const nodes = summary.slowest_nodes;
  const labels = nodes.map((n) => nodeLabel(n, oneWorkflow));
  const values = nodes.map((n) => Math.round((n.mean_ms ?? 0) * 10) / 10);
  const description = nodes.length
    ? `Slowest nodes by mean step time: ${labels.map((l, i) => `${l} ${formatMs(values[i])}`).join(', ')}.`
    : 'No steps in this window.';
  return { labels, values, description };
}

/** The most failing nodes as bars of their failed steps, most first. */
export function failingRanking(summary: Summary, oneWorkflow: boolean): Ranking {
  const nodes = summary.failing_nodes;
  const labels = nodes.map((n) => nodeLabel(n, oneWorkflow));
  const values = nodes.map((n) => n.failures);
  const description = nodes.length
    ? `Most failing nodes: ${labels.map((l, i) => `${l} ${values[i]} of ${nodes[i]?.steps ?? 0} steps`).join(', ')}.`
    : 'No failed steps.';
  return { labels, values, description };
}

/** The most frequent error codes as bars of their runs. */
export function errorRanking(summary: Summary): Ranking {
  const labels = summary.errors.map((e) => e.code);
  const values = summary.errors.map((e) => e.count);
  const description = labels.length
    ? `Most frequent error codes: ${labels.map((l, i) => `${l} ${values[i]}`).join(', ')}.`
    : 'No errors.';
  return { labels, values, description };
}

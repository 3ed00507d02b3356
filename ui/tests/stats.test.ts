import { describe, expect, it } from 'vitest';
import {
  bucketLabel,
  chartData,
  describePercentiles,
  describeRuns,
  errorRanking,
  failingRanking,
  formatMs,
  formatRate,
  slowestRanking,
  windowFrom,
  type Series,
  type Summary,
} from '../src/lib/stats';

const empty = { p50: null, p95: null, p99: null };

function point(at: string, succeeded: number, failed: number, p99: number | null = null): Series['points'][number] {
  const finished = succeeded + failed;
  return {
    at,
    succeeded,
    failed,
    cancelled: 0,
    dead_lettered: 0,
    success_rate: finished ? succeeded / finished : null,
    duration_ms: p99 === null ? empty : { p50: p99 / 4, p95: p99 / 2, p99 },
    queue_lag_ms: empty,
  };
}

describe('windowFrom', () => {
  it('reads a known window from the query and falls back to 24 h', () => {
    expect(windowFrom('?window=7d')).toBe('7d');
    expect(windowFrom('?window=2h')).toBe('24h');
    expect(windowFrom('')).toBe('24h');
  });
});

describe('formatting', () => {
  it('gives milliseconds, seconds, minutes and hours, and a dash for no runs', () => {
    expect(formatMs(840.4)).toBe('840 ms');
    expect(formatMs(12_345)).toBe('12.3 s');
    expect(formatMs(270_000)).toBe('4.5 min');
    expect(formatMs(7_200_000)).toBe('2.0 h');
    expect(formatMs(null)).toBe('–');
    expect(formatRate(0.9512)).toBe('95.1 %');
    expect(formatRate(null)).toBe('–');
  });

  it('labels hours, hours with their day across midnight, and days', () => {
    expect(bucketLabel('2026-03-03T14:00:00+00:00', 3600, false)).toBe('14:00');
    expect(bucketLabel('2026-03-03T14:00:00+00:00', 3600, true)).toBe('3 Mar 14:00');
    expect(bucketLabel('2026-03-03T00:00:00+00:00', 86400, true)).toBe('3 Mar');
  });
});

describe('chartData', () => {
  const series: Series = {
    window: '24h',
    bucket_seconds: 3600,
    points: [point('2026-03-03T22:00:00+00:00', 0, 0), point('2026-03-03T23:00:00+00:00', 3, 1, 800), point('2026-03-04T00:00:00+00:00', 2, 0, 400)],
  };

  it('keeps one value per bucket, and a gap (null) where no run finished', () => {
    const data = chartData(series);
    expect(data.labels).toEqual(['3 Mar 22:00', '3 Mar 23:00', '4 Mar 00:00']);
    expect(data.byStatus.succeeded).toEqual([0, 3, 2]);
    expect(data.byStatus.failed).toEqual([0, 1, 0]);
    expect(data.successRate).toEqual([null, 75, 100]);
    expect(data.duration.p99).toEqual([null, 800, 400]);
  });

  it('describes the charts in words for screen readers', () => {
    const data = chartData(series);
    expect(describeRuns(data)).toBe('Runs by status over 3 buckets: 5 succeeded, 1 failed, 0 cancelled; busiest 3 Mar 23:00 with 4.');
    expect(describePercentiles('Run duration', data.duration)).toBe('Run duration per bucket; highest p50 200 ms, p95 400 ms, p99 800 ms.');
    expect(describePercentiles('Queue lag', data.queueLag)).toBe('Queue lag: no runs in this window.');
  });
});

describe('rankings', () => {
  const node = (workflow: string, node_id: string, steps: number, failures: number, mean_ms: number) => ({
    workflow,
    node_id,
    steps,
    failures,
    mean_ms,
    max_ms: mean_ms * 2,
  });
  const summary = {
    slowest_nodes: [node('sync', 'call', 10, 4, 812.34), node('sync', 'map', 10, 0, 3)],
    failing_nodes: [node('sync', 'call', 10, 4, 812.34)],
    errors: [
      { code: 'http.timeout', count: 3 },
      { code: 'run.cancelled', count: 1 },
    ],
  } as unknown as Summary;

  it('names nodes with their workflow on the dashboard and alone on a workflow tab', () => {
    expect(slowestRanking(summary, false).labels).toEqual(['sync · call', 'sync · map']);
    expect(slowestRanking(summary, true)).toEqual({
      labels: ['call', 'map'],
      values: [812.3, 3],
      description: 'Slowest nodes by mean step time: call 812 ms, map 3 ms.',
    });
  });

  it('ranks failing nodes and error codes with a sentence for screen readers', () => {
    expect(failingRanking(summary, true).description).toBe('Most failing nodes: call 4 of 10 steps.');
    expect(errorRanking(summary)).toEqual({
      labels: ['http.timeout', 'run.cancelled'],
      values: [3, 1],
      description: 'Most frequent error codes: http.timeout 3, run.cancelled 1.',
    });
    const none = { slowest_nodes: [], failing_nodes: [], errors: [] } as unknown as Summary;
    expect(errorRanking(none).description).toBe('No errors.');
    expect(failingRanking(none, false).description).toBe('No failed steps.');
  });
});

import { describe, expect, it } from 'vitest';
import { freeSpot, layoutPositions } from '../src/lib/layout';

const outputs = new Map([['check', ['true', 'false']]]);

function layout(edges: { from: string; to: string; when?: string }[]) {
  const ids = new Set(edges.flatMap((e) => [e.from, e.to]));
  return layoutPositions([...ids].map((id) => ({ id })), edges, outputs);
}

describe('auto-layout', () => {
  it('places a branch\'s true target above its false target, whatever the edge order', () => {
    for (const edges of [
      [
        { from: 'start', to: 'check' },
        { from: 'check', to: 'no', when: 'false' },
        { from: 'check', to: 'yes', when: 'true' },
      ],
      [
        { from: 'start', to: 'check' },
        { from: 'check', to: 'yes', when: 'true' },
        { from: 'check', to: 'no', when: 'false' },
      ],
      // Names that dagre would sort the other way round.
      [
        { from: 'start', to: 'check' },
        { from: 'check', to: 'a_false', when: 'false' },
        { from: 'check', to: 'z_true', when: 'true' },
        { from: 'z_true', to: 'end' },
        { from: 'a_false', to: 'end' },
      ],
    ]) {
      const positions = layout(edges);
      const yes = edges.find((e) => e.when === 'true')!.to;
      const no = edges.find((e) => e.when === 'false')!.to;
      expect(positions.get(yes)!.y).toBeLessThan(positions.get(no)!.y);
      expect(positions.get('check')!.x).toBeLessThan(positions.get(yes)!.x);
    }
  });

  it('lays a chain out left to right', () => {
    const positions = layout([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
    ]);
    expect(positions.get('a')!.x).toBeLessThan(positions.get('b')!.x);
    expect(positions.get('b')!.x).toBeLessThan(positions.get('c')!.x);
  });
});

describe('a step added by keyboard', () => {
  it('goes where it is asked when that place is free', () => {
    expect(freeSpot({ x: 100, y: 100 }, [{ x: 600, y: 600 }])).toEqual({ x: 100, y: 100 });
  });

  it('never lands on another step', () => {
    const taken = [{ x: 100, y: 100 }];
    const spot = freeSpot({ x: 110, y: 105 }, taken);
    expect(Math.abs(spot.x - 100) >= 200 || Math.abs(spot.y - 100) >= 64).toBe(true);
    const crowded = [taken[0]!, spot];
    const next = freeSpot({ x: 110, y: 105 }, crowded);
    for (const other of crowded) expect(Math.abs(next.x - other.x) >= 200 || Math.abs(next.y - other.y) >= 64).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { SnapshotBuffer, TICK_MS, lerpAngle, wrapAngle } from '../src/game/interpolation.js';

const snap = (tick, x, heading = 0) => ({ tick, cars: [{ id: 0, x, y: 0, heading, vx: 0, vy: 0 }], race_info: {} });

describe('angles', () => {
    it('wraps into (-pi, pi]', () => {
        expect(wrapAngle(Math.PI)).toBeCloseTo(Math.PI);
        expect(wrapAngle(-Math.PI)).toBeCloseTo(Math.PI);
        expect(wrapAngle((3 * Math.PI) / 2)).toBeCloseTo(-Math.PI / 2);
        expect(wrapAngle(-7)).toBeCloseTo(-7 + 2 * Math.PI);
    });
    it('interpolates the short way across the seam', () => {
        const a = Math.PI - 0.1;
        const b = -Math.PI + 0.1;
        expect(Math.abs(lerpAngle(a, b, 0.5))).toBeCloseTo(Math.PI);
        expect(lerpAngle(a, b, 0.25)).toBeCloseTo(Math.PI - 0.05);
        expect(lerpAngle(0.2, -0.2, 0.5)).toBeCloseTo(0);
    });
});

describe('SnapshotBuffer', () => {
    it('renders 100 ms in the past, between the snapshots around that moment', () => {
        const b = new SnapshotBuffer({ delayMs: 100 });
        // 20 Hz: every 3 ticks, arriving exactly on time.
        for (let t = 0; t <= 30; t += 3) b.push(snap(t, t * 10), 1000 + t * TICK_MS);
        const now = 1000 + 30 * TICK_MS;
        const s = b.sample(now);
        expect(s.tick).toBeCloseTo(24, 6); // 100 ms = 6 ticks back
        expect(s.cars[0].x).toBeCloseTo(240, 6);
        const mid = b.sample(now + 1.5 * TICK_MS);
        expect(mid.tick).toBeCloseTo(25.5, 6);
        expect(mid.cars[0].x).toBeCloseTo(255, 6); // between ticks 24 and 27
    });

    it('ignores late and duplicate snapshots and holds the last one when data runs out', () => {
        const b = new SnapshotBuffer({ delayMs: 100 });
        b.push(snap(3, 30), 0);
        b.push(snap(6, 60), 50);
        b.push(snap(4, 999), 60); // late
        expect(b.snaps.map((s) => s.tick)).toEqual([3, 6]);
        const s = b.sample(10_000);
        expect(s.cars[0].x).toBe(60);
        expect(s.extrapolated).toBe(true);
    });

    it('keeps its clock on the least delayed arrival (jitter does not jerk the view)', () => {
        const b = new SnapshotBuffer({ delayMs: 100 });
        b.push(snap(0, 0), 1000);
        b.push(snap(3, 30), 1000 + 3 * TICK_MS + 40); // 40 ms late
        expect(b.offset).toBeCloseTo(1000 + 0.8, 0);
        b.push(snap(6, 60), 1000 + 6 * TICK_MS - 5); // early: follow at once
        expect(b.offset).toBeCloseTo(995, 6);
    });

    it('interpolates headings across the seam per car', () => {
        const b = new SnapshotBuffer({ delayMs: 0 });
        b.push(snap(0, 0, Math.PI - 0.2), 0);
        b.push(snap(6, 6, -Math.PI + 0.2), 6 * TICK_MS);
        const s = b.sample(3 * TICK_MS);
        expect(Math.abs(s.cars[0].heading)).toBeGreaterThan(Math.PI - 0.01);
    });

    it('returns null with no data and the first snapshot before it', () => {
        const b = new SnapshotBuffer();
        expect(b.sample(0)).toBeNull();
        b.push(snap(30, 1), 500);
        expect(b.sample(0).tick).toBe(30);
    });
});

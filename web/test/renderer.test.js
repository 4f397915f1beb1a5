import { describe, expect, it } from 'vitest';
import {
    bounds,
    cameraTransform,
    carCorners,
    edgesFromCentre,
    fitZoom,
    followCamera,
    formatTime,
    nextGate,
    rayEnd,
    screenToWorld,
    SkidMarks,
    speedKmh,
    stageGeometry,
    worldToScreen,
} from '../src/game/renderer.js';

describe('camera', () => {
    const cam = { x: 100, y: 50, zoom: 4 };
    it('puts the camera centre in the middle of the screen, y up', () => {
        expect(worldToScreen(cam, 1280, 720, 100, 50)).toEqual([640, 360]);
        expect(worldToScreen(cam, 1280, 720, 110, 50)).toEqual([680, 360]);
        expect(worldToScreen(cam, 1280, 720, 100, 60)).toEqual([640, 320]);
    });
    it('screenToWorld inverts worldToScreen', () => {
        for (const [x, y] of [
            [0, 0],
            [123.4, -56.7],
            [100, 50],
        ]) {
            const [sx, sy] = worldToScreen(cam, 1280, 720, x, y);
            const [wx, wy] = screenToWorld(cam, 1280, 720, sx, sy);
            expect(wx).toBeCloseTo(x, 9);
            expect(wy).toBeCloseTo(y, 9);
        }
    });
    it('cameraTransform maps like worldToScreen', () => {
        const [a, b, c, d, e, f] = cameraTransform(cam, 1280, 720);
        const x = 90,
            y = 70;
        expect([a * x + c * y + e, b * x + d * y + f]).toEqual(worldToScreen(cam, 1280, 720, x, y));
    });
    it('fits a stage and follows a car, zooming out with speed', () => {
        const z = fitZoom({ minX: 0, minY: 0, maxX: 100, maxY: 50 }, 216, 216, 8);
        expect(z).toBeCloseTo(2);
        let c = { x: 0, y: 0, zoom: 6 };
        for (let i = 0; i < 200; i++) c = followCamera(c, { x: 10, y: 20, vx: 0, vy: 0 }, 16);
        expect(c.x).toBeCloseTo(10, 3);
        expect(c.y).toBeCloseTo(20, 3);
        let fast = c;
        for (let i = 0; i < 200; i++) fast = followCamera(fast, { x: 10, y: 20, vx: 60, vy: 0 }, 16);
        expect(fast.zoom).toBeLessThan(c.zoom);
    });
});

describe('stage geometry', () => {
    it('offsets edges half the width either side (left is +90 degrees)', () => {
        const { left, right } = edgesFromCentre(
            [
                [0, 0],
                [10, 0],
                [20, 0],
            ],
            [4, 4, 6],
        );
        expect(left[0]).toEqual([0, 2]);
        expect(right[0][0]).toBeCloseTo(0);
        expect(right[0][1]).toBeCloseTo(-2);
        expect(left[2][1]).toBeCloseTo(3);
    });
    it('takes the server geometry, or derives edges, walls, gates and finish', () => {
        const g = stageGeometry({
            centre: [
                [0, 0],
                [0, 10],
                [0, 20],
            ],
            width: [4, 4, 4],
            surfaces: ['asphalt', 1],
            checkpoints: [{ index: 0, point: 1 }],
        });
        expect(g.left[0][0]).toBeCloseTo(-2);
        expect(g.walls.left[0][0]).toBeCloseTo(-7); // + CR_VERGE
        expect(g.surfaces).toEqual(['asphalt', 'gravel']);
        expect(g.checkpoints[0].left[0]).toBeCloseTo(-2);
        expect(g.finish.point).toBe(2);
        expect(g.bounds.minX).toBeCloseTo(-7);
        expect(g.start.heading).toBeCloseTo(Math.PI / 2);
        expect(nextGate(g, 0).index).toBe(0);
        expect(nextGate(g, 1).finish).toBe(true);
        expect(() => stageGeometry({ centre: [[0, 0]] })).toThrow(/2 centre points/);
    });
    it('bounds covers every list', () => {
        expect(
            bounds(
                [
                    [1, 2],
                    [3, -4],
                ],
                [[-5, 0]],
            ),
        ).toEqual({ minX: -5, minY: -4, maxX: 3, maxY: 2 });
    });
});

describe('cars and HUD helpers', () => {
    it('car corners turn with the heading', () => {
        const c = carCorners(0, 0, Math.PI / 2, 4, 2);
        expect(c[0][0]).toBeCloseTo(-1);
        expect(c[0][1]).toBeCloseTo(2);
    });
    it('rays start at the car and turn with it', () => {
        const [x, y] = rayEnd({ x: 1, y: 1, heading: Math.PI / 2 }, -Math.PI / 2, 10);
        expect(x).toBeCloseTo(11);
        expect(y).toBeCloseTo(1);
    });
    it('formats times and speeds', () => {
        expect(formatTime(65.432)).toBe('01:05.43');
        expect(formatTime(-2.5)).toBe('-00:02.50');
        expect(formatTime(null)).toBe('--:--.--');
        expect(speedKmh({ vx: 3, vy: 4 })).toBeCloseTo(18);
    });
    it('skid marks collect segments only while sliding, in a ring', () => {
        const s = new SkidMarks(3);
        s.update([{ id: 0, x: 0, y: 0, vx: 10, vy: 0, flags: 1 }]);
        s.update([{ id: 0, x: 1, y: 0, vx: 10, vy: 0, flags: 1 }]);
        expect(s.n).toBe(1);
        s.update([{ id: 0, x: 2, y: 0, vx: 10, vy: 0, flags: 0 }]);
        s.update([{ id: 0, x: 3, y: 0, vx: 10, vy: 0, flags: 1 }]);
        expect(s.n).toBe(1); // the gap while gripping is not drawn
        for (let i = 4; i < 10; i++) s.update([{ id: 0, x: i, y: 0, vx: 10, vy: 0, flags: 1 }]);
        expect(s.n).toBe(3);
    });
});

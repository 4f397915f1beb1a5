// The live debug overlay's ray casts: the same C sensors as a race's own,
// from the pose a snapshot gives.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../src/game/engine.js';
import { LiveRays } from '../src/game/liverays.js';
import { stageDescFromGeometry } from '../src/game/prediction.js';

// A straight road 400 u east, 12 u wide.
function straight() {
    const centre = [];
    for (let x = 0; x <= 400; x += 10) centre.push([x, 0]);
    return {
        centre,
        width: centre.map(() => 12),
        surfaces: centre.slice(1).map(() => 'asphalt'),
        checkpoints: [{ point: 20 }],
    };
}

let engine;
beforeAll(async () => {
    engine = await loadEngine();
});

describe('LiveRays', () => {
    it('casts the rays a race car at the same pose would see', () => {
        const g = straight();
        const live = new LiveRays(engine, g, 2);
        const cars = [
            { id: 0, x: 100, y: 0, heading: 0 },
            { id: 1, x: 200, y: 3, heading: Math.PI / 2 },
        ];
        const rays = live.cast(cars);
        expect([...rays.keys()]).toEqual([0, 1]);
        // The reference: a race on the same stage, its cars set to the same poses.
        const st = engine.createStage(stageDescFromGeometry(g));
        const stats = [44, 15, 1, 30, 2, 100, 2.3, 1050];
        const race = st.createRace(
            [
                { stats, kind: 'human' },
                { stats, kind: 'human' },
            ],
            { countdown_ticks: 0, time_limit_ticks: 3600, stall_limit_ticks: 0 },
        );
        cars.forEach((c, i) => {
            race.setCar(i, { ...c, vx: 0, vy: 0 });
            expect(rays.get(c.id)).toEqual(race.sensors(i).rays);
        });
        // Facing along the road the middle ray reaches far; across it, the
        // edge is 3 u away for the car 3 u left of the centre line.
        const mid = (r) => r[(r.length - 1) / 2];
        expect(mid(rays.get(0))).toBeGreaterThan(50);
        expect(mid(rays.get(1))).toBeGreaterThan(1);
        expect(mid(rays.get(1))).toBeLessThan(5);
        race.destroy();
        st.destroy();
        live.destroy();
    });

    it('casts for at most its slots and skips ghosts', () => {
        const live = new LiveRays(engine, straight(), 1);
        const rays = live.cast([
            { id: 5, x: 50, y: 0, heading: 0, ghost: true },
            { id: 6, x: 60, y: 0, heading: 0 },
        ]);
        expect([...rays.keys()]).toEqual([6]);
        const two = live.cast([
            { id: 6, x: 60, y: 0, heading: 0 },
            { id: 7, x: 70, y: 0, heading: 0 },
        ]);
        expect([...two.keys()]).toEqual([6]);
        live.destroy();
    });
});

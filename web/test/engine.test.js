// The WASM engine on its own: replay files round-trip, bad input is refused,
// prediction answers the keys, the frame recorder's statistics.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEngine } from '../src/game/engine.js';
import { FrameStats, percentile } from '../src/game/framestats.js';
import { Predictor, stageDescFromGeometry } from '../src/game/prediction.js';
import { parseReplay, ReplayFormatError } from '../src/game/replay.js';
import { writeReplay } from '../src/game/replay-writer.js';

const HATCH = [44, 15, 1, 30, 2, 100, 2.3, 1050];
// 300 u east, a left turn of radius 100 in 10-degree steps, 200 u north.
function lStage() {
    const centre = [];
    for (let x = 0; x <= 300; x += 10) centre.push([x, 0]);
    for (let a = 10; a <= 90; a += 10)
        centre.push([300 + 100 * Math.sin((a * Math.PI) / 180), 100 - 100 * Math.cos((a * Math.PI) / 180)]);
    for (let y = 110; y <= 300; y += 10) centre.push([400, y]);
    return {
        centre,
        width: centre.map(() => 12),
        surfaces: centre.slice(1).map((_, i) => (i < 20 ? 'asphalt' : 'gravel')),
        checkpoints: [{ point: 15 }, { point: 40 }],
    };
}

let engine;
beforeAll(async () => {
    engine = await loadEngine();
});

describe('engine', () => {
    it('compiles a stage and refuses a bad one with the engine message', () => {
        const st = engine.createStage(stageDescFromGeometry(lStage()));
        expect(st.hash()).toMatch(/^[0-9a-f]{16}$/);
        expect(st.length()).toBeGreaterThan(650);
        st.destroy();
        expect(() =>
            engine.createStage({
                points: [
                    [0, 0, 10, 0],
                    [0, 0, 10, 0],
                ],
                checkpoints: [],
            }),
        ).toThrow(/./);
        expect(() =>
            engine.createStage({
                points: [
                    [0, 0, 10, 0],
                    [50, 0, 10, 'lava'],
                ],
            }),
        ).toThrow(/surface/);
    });

    it('races deterministically and refuses bad inputs and stats', () => {
        const st = engine.createStage(stageDescFromGeometry(lStage()));
        const run = () => {
            const r = st.createRace(
                [
                    { stats: HATCH, kind: 'human' },
                    { stats: HATCH, kind: 'ai' },
                ],
                { countdown_ticks: 30 },
            );
            r.setActions(0, { accelerate: true, turn_left: false });
            for (let i = 0; i < 300; i++) {
                r.driveAI(1, 0.8);
                r.step();
            }
            const out = { hash: r.hash(), snap: r.snapshot() };
            r.destroy();
            return out;
        };
        const a = run();
        const b = run();
        expect(a.hash).toBe(b.hash);
        expect(a.snap.tick).toBe(300);
        expect(a.snap.phase).toBe('running');
        expect(a.snap.cars[0].x).toBeGreaterThan(50);
        const r = st.createRace([{ stats: HATCH, kind: 'human' }], {});
        expect(() => r.setPackedInput(0, 300, 0, 0, 0)).toThrow(/range/);
        expect(() => r.setPackedInput(5, 0, 0, 0, 0)).toThrow();
        expect(() => st.createRace([{ stats: [1, 1, 1, 1, 1, 1, 1, 1], kind: 'human' }], {})).toThrow(/top_speed/);
        const s = r.sensors(0);
        expect(s.rays).toHaveLength(9);
        expect(s.nextCheckpoint).not.toBeNull();
        r.destroy();
        st.destroy();
    });

    it('writes and reads replays, and names damage with its offset', () => {
        const rep = {
            header: {
                generator: 'forest',
                generatorVersion: '1',
                seed: '18446744073709551615',
                params: { turns: '3' },
                rules: 'standard',
                rulesHash: '00000000000000ff',
                stageHash: 'ffffffffffffffff',
                cars: [{ name: 'ada', carType: 'hatch', kindCode: 2, stats: HATCH }],
            },
            inputs: [{ tick: 0, car: 0, throttle: 255, brake: 0, steer: -127, flags: 3 }],
            hashes: [{ tick: 60, hash: '0123456789abcdef' }],
            drawings: [
                {
                    tick: 3,
                    car: 0,
                    items: [
                        { kind: 'circle', rgb: 0xff0000, a: 1, b: 2, c: 3, d: 0, text: '' },
                        { kind: 'text', rgb: 1, a: 0, b: 0, c: 0, d: 0, text: 'hi' },
                    ],
                },
            ],
            finalTick: 61,
            finalHash: 'fedcba9876543210',
        };
        const bytes = writeReplay(rep);
        const back = parseReplay(bytes);
        expect(back.header).toMatchObject({
            generator: 'forest',
            seed: '18446744073709551615',
            params: { turns: '3' },
            stageHash: 'ffffffffffffffff',
        });
        expect(back.header.cars[0]).toMatchObject({ name: 'ada', kind: 'human', stats: HATCH });
        expect(back.inputs).toEqual(rep.inputs);
        expect(back.hashes).toEqual(rep.hashes);
        expect(back.drawings[0].items[1].text).toBe('hi');
        expect(back.finalHash).toBe('fedcba9876543210');
        expect(() => parseReplay(bytes.slice(0, bytes.length - 3))).toThrow(ReplayFormatError);
        const junk = new Uint8Array([...bytes, 0]);
        expect(() => parseReplay(junk)).toThrow(/after the end/);
        const bad = bytes.slice();
        bad[0] = 0x58;
        expect(() => parseReplay(bad)).toThrow(/magic/);
    });

    it('predicts the own car forward from a server state and reconciles', () => {
        const p = new Predictor(engine, lStage(), HATCH);
        p.reconcile(100, { x: 20, y: 0, heading: 0, vx: 0, vy: 0 });
        p.input(100, { accelerate: true });
        const c1 = p.advance(130);
        expect(c1.x).toBeGreaterThan(20.5);
        expect(Math.abs(c1.y)).toBeLessThan(0.5);
        // The server says we were somewhere else at tick 120: replay from there.
        // (far enough off to be a teleport, drawn at once rather than smoothed)
        p.reconcile(120, { x: 40, y: 0, heading: 0, vx: 10, vy: 0 });
        const c2 = p.advance(130);
        expect(c2.x).toBeGreaterThan(40 + 10 * (10 / 60));
        p.input(130, { accelerate: false, turn_left: true });
        const c3 = p.advance(160);
        expect(c3.heading).toBeGreaterThan(0.05);
        p.destroy();
    });
});

describe('ReplaySimulator', () => {
    it('re-simulates a recorded race, seeks back and forth, and catches a wrong hash', async () => {
        const { ReplaySimulator } = await import('../src/game/engine.js');
        const st = engine.createStage(stageDescFromGeometry(lStage()));
        const rules = { countdown_ticks: 20, time_limit_ticks: 3000, stall_limit_ticks: 0 };
        const inputs = [];
        for (let t = 0; t < 400; t += 30)
            inputs.push({ tick: t, car: 0, throttle: 255, brake: 0, steer: ((t / 30) % 3) * 40 - 40, flags: 0 });
        const r2 = st.createRace(
            [
                { stats: HATCH, kind: 'human' },
                { stats: HATCH, kind: 'human' },
            ],
            rules,
        );
        const at2 = {};
        const hashes2 = [];
        const inputs2 = [...inputs, { tick: 0, car: 1, throttle: 200, brake: 0, steer: 10, flags: 1 }].sort(
            (a, b) => a.tick - b.tick,
        );
        let k = 0;
        while (r2.tick() < 400) {
            for (; k < inputs2.length && inputs2[k].tick <= r2.tick(); k++) {
                const i = inputs2[k];
                r2.setPackedInput(i.car, i.throttle, i.brake, i.steer, i.flags);
            }
            r2.step();
            at2[r2.tick()] = r2.hash();
            if (r2.tick() % 60 === 0) hashes2.push({ tick: r2.tick(), hash: r2.hash() });
        }
        const header = {
            generator: 'test',
            generatorVersion: '1',
            seed: '1',
            params: {},
            rules: 'standard',
            rulesHash: '0000000000000000',
            stageHash: st.hash(),
            cars: [0, 1].map((i) => ({ name: `c${i}`, carType: 'hatch', kindCode: 2, stats: HATCH })),
        };
        const replay = parseReplay(
            writeReplay({ header, inputs: inputs2, hashes: hashes2, finalTick: 400, finalHash: r2.hash() }),
        );
        r2.destroy();
        const sim = new ReplaySimulator(st, replay, rules);
        expect(sim.seek(300)).toBe(300);
        expect(sim.race.hash()).toBe(at2[300]);
        expect(sim.seek(50)).toBe(50); // backwards: restarts
        expect(sim.race.hash()).toBe(at2[50]);
        expect(sim.verify()).toMatchObject({ ok: true, tick: 400, mismatch: null });
        sim.destroy();
        const bad = {
            ...replay,
            hashes: replay.hashes.map((h, i) => (i === 2 ? { ...h, hash: '0000000000000001' } : h)),
        };
        const sim2 = new ReplaySimulator(st, bad, rules);
        expect(sim2.verify()).toMatchObject({ ok: false, mismatch: { tick: 180 } });
        sim2.destroy();
        st.destroy();
    });
});

describe('practice race', () => {
    it('the built-in stage compiles and eight cars race on it, the AI making progress', async () => {
        const { DemoRace } = await import('../src/game/demo.js');
        const d = new DemoRace(engine, { cars: 8, countdownTicks: 0 });
        d.keyboard = { accelerate: true };
        for (let t = 0; t <= 60 * 20; t += 5) d.update(t * (1000 / 60));
        const snap = d.race.snapshot();
        expect(snap.tick).toBeGreaterThan(600);
        expect(Math.min(...snap.cars.slice(1).map((c) => c.progress))).toBeGreaterThan(150);
        expect(d.buffer.snaps.length).toBeGreaterThan(10);
        expect(d.sensors.get(3)).toHaveLength(9);
        d.destroy();
    });
});

describe('FrameStats', () => {
    it('reports percentiles of frame intervals', () => {
        const f = new FrameStats(100);
        let t = 0;
        for (let i = 0; i < 101; i++) {
            f.frame(t, 2);
            t += i % 10 === 0 ? 33 : 16;
        }
        const s = f.summary();
        expect(s.frames).toBe(100);
        expect(s.p50).toBe(16);
        expect(s.p95).toBe(33);
        expect(s.workP95).toBe(2);
        expect(percentile([], 50)).toBeNull();
    });
});

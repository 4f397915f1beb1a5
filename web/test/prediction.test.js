// Own-car prediction against a real server model: the WebAssembly race (the
// server's race_step) plays the server, applying each input on arrival and
// sending 20 Hz snapshots with the fields and precision of game_state; the
// Predictor reconciles with the input acks and smooths its corrections.
import { beforeAll, describe, expect, it } from 'vitest';
import { carStateOf, loadEngine } from '../src/game/engine.js';
import { actionsToPacked, INPUT_RING, Predictor, SMOOTH_MS, startTickOf } from '../src/game/prediction.js';

const HATCH = [44, 15, 1, 30, 2, 100, 2.3, 1050];
const TICK_MS = 1000 / 60;

// A long straight east, a wide left bend, then north: room to drive, turn,
// slide and burn nitro without reaching the end.
function stage() {
    const centre = [];
    for (let x = 0; x <= 600; x += 10) centre.push([x, 0]);
    for (let a = 5; a <= 90; a += 5)
        centre.push([600 + 150 * Math.sin((a * Math.PI) / 180), 150 - 150 * Math.cos((a * Math.PI) / 180)]);
    for (let y = 160; y <= 800; y += 10) centre.push([750, y]);
    return {
        centre,
        width: centre.map(() => 16),
        surfaces: centre.slice(1).map((_, i) => (i < 40 ? 'asphalt' : 'gravel')),
        checkpoints: [{ point: 30 }, { point: 70 }],
    };
}

// What game_state says of car 0: the engine's snapshot printed with 7
// significant digits, as the server's encoder does.
const g7 = (v) => Number(Number(v).toPrecision(7));
function stateOf(race, inputTick) {
    const s = race.snapshot();
    const c = s.cars[0];
    return {
        tick: s.tick,
        race_info: { phase: s.phase, time: g7(s.time_s) },
        car: {
            id: 0,
            x: g7(c.x),
            y: g7(c.y),
            heading: g7(c.heading),
            vx: g7(c.vx),
            vy: g7(c.vy),
            angular_velocity: g7(c.angular_velocity),
            flags: c.flags,
            nitro: c.nitro,
            nitro_ticks: c.nitro_ticks,
            input_tick: inputTick,
        },
    };
}

const SCRIPT = [
    [40, { accelerate: true }],
    [100, { accelerate: true, turn_left: true }],
    [125, { accelerate: true, turn_right: true, nitro: true }],
    [150, { accelerate: true }],
    [152, { accelerate: true, nitro: true }],
    [175, { accelerate: true, turn_left: true, handbrake: true }],
    [200, { accelerate: true, turn_right: true }],
    [230, { brake: true }],
    [260, { accelerate: true }],
];

/**
 * Runs server and client side by side to tick `until`: the client sends
 * SCRIPT, the
 * server sends a snapshot every 3rd tick that arrives `lag` ticks later.
 * hooks.server(race, tick) may meddle with the server's car.
 */
function play(engine, { until = 320, lag = 4, hooks = {} } = {}) {
    const st = engine.createStage({
        points: stage().centre.map(([x, y], i) => [x, y, 16, i < 40 ? 0 : 1]),
        checkpoints: [30, 70],
    });
    const race = st.createRace([{ stats: HATCH, kind: 'human' }], { countdown_ticks: 30 });
    const p = new Predictor(engine, stage(), HATCH);
    const inFlight = []; // { at, tick, actions } inputs on their way to the server
    const mail = []; // { at, msg } snapshots on their way to the client
    let acked = null;
    const frames = [];
    for (let now = 0; now <= until; now++) {
        // Client: the frame at tick `now`.
        const ms = now * TICK_MS;
        while (mail.length && mail[0].at <= now) {
            const m = mail.shift().msg;
            p.reconcile(m.tick, m.car, m.race_info, ms);
        }
        for (const [t, a] of SCRIPT)
            if (t === now) {
                const tick = p.nextTick(now);
                p.input(tick, a);
                inFlight.push({ at: now, tick, actions: a });
            }
        const drawn = p.advance(now, ms);
        if (drawn) frames.push({ now, drawn, state: p.car.state() });
        // Server: inputs that arrived apply from this step on.
        while (inFlight.length && inFlight[0].at <= now) {
            const i = inFlight.shift();
            race.setActions(0, i.actions);
            acked = i.tick;
        }
        if (hooks.server) hooks.server(race, now);
        race.step();
        if (race.tick() % 3 === 0) mail.push({ at: race.tick() + lag, msg: stateOf(race, acked) });
    }
    const out = { p, frames, race, st };
    out.destroy = () => {
        p.destroy();
        race.destroy();
        st.destroy();
    };
    return out;
}

let engine;
beforeAll(async () => {
    engine = await loadEngine();
});

describe('EngineCar', () => {
    it("steps exactly as the server's race does, and refuses a bad state", () => {
        const st = engine.createStage({
            points: stage().centre.map(([x, y], i) => [x, y, 16, i < 40 ? 0 : 1]),
            checkpoints: [30, 70],
        });
        const race = st.createRace([{ stats: HATCH, kind: 'human' }], { countdown_ticks: 0 });
        const car = engine.createCar(HATCH);
        const s0 = race.snapshot().cars[0];
        car.setState(carStateOf({ ...s0, nitro: 2 }));
        for (let t = 0; t < 300; t++) {
            const a = SCRIPT.filter(([at]) => at <= t + 40).pop()?.[1] ?? {};
            race.setActions(0, a);
            car.setPackedInput(...actionsToPacked(a));
            race.step();
            car.step(st);
            const r = race.snapshot().cars[0];
            const c = car.state();
            for (const k of ['x', 'y', 'heading', 'vx', 'vy', 'angular_velocity', 'nitro', 'nitro_ticks'])
                expect(Math.fround(c[k]), `${k} at tick ${t + 1}`).toBe(r[k]);
            expect(c.sliding).toBe(!!(r.flags & 1));
            expect(c.nitro_held).toBe(!!(r.flags & 64));
        }
        expect(race.snapshot().cars[0].x).toBeGreaterThan(100);
        const before = car.state();
        expect(() => car.setState([NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0])).toThrow(/finite/);
        expect(() => car.setState([0, 0, 0, 0, 0, 0, 0, 0, 2, 0])).toThrow(/range/);
        expect(() => car.setState([0, 0, 0, 0, 0, 0, -1, 0, 0, 0])).toThrow(/range/);
        expect(car.state()).toEqual(before);
        expect(() => car.setPackedInput(256, 0, 0, 0)).toThrow(/range/);
        expect(() => engine.createCar([1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/top_speed/);
        car.destroy();
        race.destroy();
        st.destroy();
    });
});

describe('Predictor', () => {
    it('makes no correction when the prediction matches the server', () => {
        const run = play(engine);
        const { p, frames } = run;
        const e = p.errorStats();
        expect(e.n).toBeGreaterThan(80);
        // Only the 7 significant digits of game_state stand between them.
        expect(e.max).toBeLessThan(1e-3);
        expect(p.corrections).toBe(0);
        for (const f of frames) {
            expect(Math.hypot(f.drawn.x - f.state.x, f.drawn.y - f.state.y)).toBeLessThan(1e-3);
        }
        // The drive went somewhere: turned, slid, burnt nitro.
        const last = frames[frames.length - 1].state;
        expect(Math.hypot(last.x, last.y)).toBeGreaterThan(100);
        expect(frames.some((f) => f.state.sliding)).toBe(true);
        expect(frames.some((f) => f.state.nitro_ticks > 0)).toBe(true);
        expect(p.pending()).toBe(0); // every input acknowledged and dropped
        run.destroy();
    });

    it('smooths a server correction over about 100 ms and converges on the server', () => {
        let shoved = null;
        const run = play(engine, {
            until: 300,
            hooks: {
                // A knock the client cannot know of: 1.5 u sideways at tick 150.
                server(race, now) {
                    if (now !== 150) return;
                    const c = race.snapshot().cars[0];
                    shoved = { x: c.x, y: c.y };
                    race.setCar(0, { ...c, y: c.y + 1.5 });
                },
            },
        });
        const { p, frames } = run;
        expect(shoved).not.toBeNull();
        expect(p.corrections).toBeGreaterThan(0);
        // No jump on screen: consecutive frames move by what the car moves.
        const jumps = frames
            .slice(1)
            .map((f, i) => Math.hypot(f.drawn.x - frames[i].drawn.x, f.drawn.y - frames[i].drawn.y));
        const speed = (f) => Math.hypot(f.state.vx, f.state.vy) / 60;
        for (let i = 0; i < jumps.length; i++) expect(jumps[i]).toBeLessThan(speed(frames[i + 1]) + 0.6);
        // The correction arrives with the first snapshot after the knock and fades out.
        const gap = (f) => Math.hypot(f.drawn.x - f.state.x, f.drawn.y - f.state.y);
        const first = frames.findIndex((f) => gap(f) > 0.5);
        expect(first).toBeGreaterThan(0);
        const t0 = frames[first].now;
        const at = (dt) => frames.find((f) => f.now >= t0 + dt / TICK_MS);
        expect(gap(frames[first])).toBeLessThan(1.6);
        expect(gap(at(SMOOTH_MS))).toBeLessThan(0.1 * gap(frames[first]));
        expect(gap(at(3 * SMOOTH_MS))).toBeLessThan(1e-3);
        // The prediction itself follows the server again at once.
        const after = p.errors.slice(-20);
        expect(Math.max(...after)).toBeLessThan(1e-2);
        run.destroy();
    });

    it('drops acknowledged inputs, replays the rest from the snapshot tick, keeps the ring bounded', () => {
        const p = new Predictor(engine, stage(), HATCH, { ringSize: 16 });
        const base = { id: 0, x: 50, y: 0, heading: 0, vx: 20, vy: 0, flags: 0, nitro: 2, nitro_ticks: 0 };
        const L = { accelerate: true, turn_left: true };
        const R = { accelerate: true, turn_right: true };
        p.input(p.nextTick(10), { accelerate: true });
        p.input(p.nextTick(12), L);
        p.input(p.nextTick(12), R); // same estimate: the tick still moves on
        expect(p.ring.map((h) => h.tick)).toEqual([10, 12, 13]);
        p.reconcile(9, { ...base, input_tick: null }, { phase: 'running', time: 1 });
        expect(p.pending()).toBe(3); // nothing acked yet
        p.reconcile(12, { ...base, input_tick: 12 }, { phase: 'running', time: 1 });
        expect(p.pending()).toBe(1);
        expect(p.held).toEqual(actionsToPacked(L));
        expect(p.inputAt(12)).toEqual(actionsToPacked(L));
        expect(p.inputAt(13)).toEqual(actionsToPacked(R));
        // An input sent at tick 13 but not applied by tick 20 drives from 20 on.
        p.reconcile(20, { ...base, input_tick: 12 }, { phase: 'running', time: 1 });
        expect(p.inputAt(19)).toEqual(actionsToPacked(L));
        expect(p.inputAt(20)).toEqual(actionsToPacked(R));
        // Replay from the server's state through the unacked input.
        const ref = engine.createCar(HATCH);
        ref.setState(carStateOf(base));
        const st = p.stage;
        for (let t = 20; t < 26; t++) {
            ref.setPackedInput(...actionsToPacked(R));
            ref.step(st);
        }
        p.advance(26); // (drawn with the correction's offset; the prediction itself:)
        expect(p.car.state()).toEqual(ref.state());
        ref.destroy();
        // Bounded: a flood of unacked inputs keeps the newest ringSize.
        for (let i = 0; i < 1000; i++) p.input(p.nextTick(30), i % 2 ? L : R);
        expect(p.pending()).toBe(16);
        expect(p.ring[15].tick - p.ring[0].tick).toBe(15);
        expect(p.ring.length).toBeLessThanOrEqual(INPUT_RING);
        p.destroy();
    });

    it('holds the car in the countdown and hands back to the server when it is out', () => {
        const p = new Predictor(engine, stage(), HATCH);
        const car = {
            id: 0,
            x: 20,
            y: 0,
            heading: 0,
            vx: 0,
            vy: 0,
            flags: 0,
            nitro: 2,
            nitro_ticks: 0,
            input_tick: null,
        };
        expect(startTickOf(0, { time: -1 })).toBe(60);
        expect(startTickOf(90, { time: 0.5 })).toBe(60);
        expect(p.advance(10)).toBeNull(); // no server state yet
        p.reconcile(0, car, { phase: 'countdown', time: -1 });
        p.input(p.nextTick(0), { accelerate: true });
        expect(p.advance(59).x).toBe(20);
        expect(p.advance(75).x).toBeGreaterThan(20.1);
        p.reconcile(90, { ...car, flags: 8 }, { phase: 'running', time: 0.5 });
        expect(p.advance(95)).toBeNull(); // finished: the server's car is drawn
        p.reconcile(93, { ...car }, { phase: 'starting', time: -3 });
        expect(p.advance(96)).toBeNull();
        p.destroy();
    });
});

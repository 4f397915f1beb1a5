// engine.js - the engine (cengine/sim + stage, compiled to WebAssembly by
// web/scripts/build-wasm.sh) behind a small JavaScript face: compile a stage,
// run a race, set inputs, step, read cars. Used for the player's own-car
// prediction and for re-simulating replays; the same C as the server.

const SNAP_HEADER = 4;
const SNAP_CAR = 15;
const CAR_STATE = 10;
const N_STATS = 8;
const SENSOR_RAYS = 9;
const SENSOR_FLOATS = 3 + SENSOR_RAYS + 2;
const SURFACES = { asphalt: 0, gravel: 1, ice: 2 };
export const CAR_KINDS = { ai: 0, bot: 1, human: 2 };
export const CAR_FLAGS = { sliding: 1, nitro: 2, offroad: 4, finished: 8, dnf: 16, braking: 32, nitro_held: 64 };
// The sensors' ray angles (rad, right to left) as in cengine/sim/sensors.c.
export const RACE_PHASES = ['countdown', 'running', 'finished'];

// scripts/rules/standard.lua's cutting rule (seconds forgiven, seconds per second).
export const STANDARD_CUT = { allowanceS: 2.0, penaltyPerS: 0.5 };

let modulePromise = null;

/** Loads the WebAssembly engine once; resolves to an Engine. */
export function loadEngine() {
    if (!modulePromise) {
        modulePromise = import('../wasm/crengine.js').then((m) => m.default()).then((m) => new Engine(m));
    }
    return modulePromise;
}

export class EngineError extends Error {}

export class Engine {
    constructor(m) {
        this.m = m;
        this.snapBuf = m._malloc(4 * (SNAP_HEADER + 16 * SNAP_CAR));
        this.sensBuf = m._malloc(4 * SENSOR_FLOATS);
        this.carBuf = m._malloc(8 * Math.max(CAR_STATE, N_STATS));
    }

    lastError() {
        return this.m.UTF8ToString(this.m._crw_last_error());
    }

    /** A lone car with stats (8 numbers in CarStats order), for prediction. */
    createCar(stats) {
        return new EngineCar(this, stats);
    }

    /**
     * Compiles a stage. desc: { points: [[x, y, width, surface], ...] or
     * [{x, y, width, surface}], checkpoints: [point indices], min_length,
     * max_length }. surface is 0..2 or "asphalt" | "gravel" | "ice".
     */
    createStage(desc) {
        const m = this.m;
        const pts = desc.points;
        if (!Array.isArray(pts) || pts.length < 2) throw new EngineError('stage: needs at least 2 points');
        const cps = desc.checkpoints || [];
        const pp = m._malloc(8 * 4 * pts.length);
        const cp = m._malloc(4 * Math.max(1, cps.length));
        try {
            const f = new Float64Array(m.HEAPF64.buffer, pp, 4 * pts.length);
            pts.forEach((p, i) => {
                const a = Array.isArray(p) ? p : [p.x, p.y, p.width, p.surface];
                const s = typeof a[3] === 'string' ? SURFACES[a[3]] : a[3];
                f.set([a[0], a[1], a[2], s === undefined ? -1 : s], 4 * i);
            });
            new Uint32Array(m.HEAPU32.buffer, cp, Math.max(1, cps.length)).set(cps);
            const h = m._crw_stage_create(pp, pts.length, cp, cps.length, desc.min_length ?? 1, desc.max_length ?? 1e6);
            if (!h) throw new EngineError(this.lastError());
            return new EngineStage(this, h);
        } finally {
            m._free(pp);
            m._free(cp);
        }
    }
}

/** The car fields of a game_state entry as the engine's car state (CRW_CAR_STATE order). */
export function carStateOf(c) {
    const flags = c.flags ?? 0;
    return [
        c.x,
        c.y,
        c.heading,
        c.vx ?? 0,
        c.vy ?? 0,
        c.angular_velocity ?? 0,
        c.nitro ?? 0,
        c.nitro_ticks ?? 0,
        flags & CAR_FLAGS.nitro_held ? 1 : 0,
        flags & CAR_FLAGS.sliding ? 1 : 0,
    ];
}

/**
 * One car outside any race (cengine/wasm crw_car_*): the engine's car_step,
 * which the server runs for every car every tick, without the race's
 * checkpoints, finish or time limit, so a prediction can restart from any
 * server state at any tick. Allocates nothing per step.
 */
export class EngineCar {
    constructor(engine, stats) {
        const m = engine.m;
        if (!Array.isArray(stats) || stats.length !== N_STATS) throw new EngineError('car: needs 8 stats');
        new Float64Array(m.HEAPF64.buffer, engine.carBuf, N_STATS).set(stats);
        this.engine = engine;
        this.h = m._crw_car_create(engine.carBuf);
        if (!this.h) throw new EngineError(engine.lastError());
    }
    /** state: CRW_CAR_STATE numbers (see carStateOf); refused, changing nothing, if out of range. */
    setState(state) {
        const m = this.engine.m;
        new Float64Array(m.HEAPF64.buffer, this.engine.carBuf, CAR_STATE).set(state);
        if (m._crw_car_set_state(this.h, this.engine.carBuf)) throw new EngineError(this.engine.lastError());
    }
    /** { x, y, heading, vx, vy, angular_velocity, nitro, nitro_ticks, nitro_held, sliding } */
    state() {
        const m = this.engine.m;
        m._crw_car_state(this.h, this.engine.carBuf);
        const f = new Float64Array(m.HEAPF64.buffer, this.engine.carBuf, CAR_STATE);
        return {
            x: f[0],
            y: f[1],
            heading: f[2],
            vx: f[3],
            vy: f[4],
            angular_velocity: f[5],
            nitro: f[6],
            nitro_ticks: f[7],
            nitro_held: f[8] !== 0,
            sliding: f[9] !== 0,
        };
    }
    setPackedInput(throttle, brake, steer, flags) {
        if (this.engine.m._crw_car_set_input(this.h, throttle, brake, steer, flags))
            throw new EngineError(this.engine.lastError());
    }
    step(stage) {
        this.engine.m._crw_car_step(this.h, stage.h);
    }
    destroy() {
        if (this.h) this.engine.m._crw_car_destroy(this.h);
        this.h = 0;
    }
}

export class EngineStage {
    constructor(engine, handle) {
        this.engine = engine;
        this.h = handle;
    }
    hash() {
        return this.engine.m.UTF8ToString(this.engine.m._crw_stage_hash(this.h));
    }
    length() {
        return this.engine.m._crw_stage_length(this.h);
    }
    destroy() {
        if (this.h) this.engine.m._crw_stage_destroy(this.h);
        this.h = 0;
    }

    /**
     * Starts a race. cars: [{ stats: [8 numbers in CarStats order], kind: 'ai'|'bot'|'human' }].
     * rules: { countdown_ticks, time_limit_ticks, stall_limit_ticks, cut_allowance_s, cut_penalty_per_s }.
     */
    createRace(cars, rules) {
        const m = this.engine.m;
        const n = cars.length;
        const sp = m._malloc(8 * N_STATS * Math.max(1, n));
        const kp = m._malloc(4 * Math.max(1, n));
        try {
            const s = new Float64Array(m.HEAPF64.buffer, sp, N_STATS * Math.max(1, n));
            const k = new Int32Array(m.HEAP32.buffer, kp, Math.max(1, n));
            cars.forEach((c, i) => {
                if (!Array.isArray(c.stats) || c.stats.length !== N_STATS)
                    throw new EngineError(`car ${i + 1}: needs 8 stats`);
                s.set(c.stats, N_STATS * i);
                k[i] = CAR_KINDS[c.kind] ?? (Number.isInteger(c.kind) ? c.kind : -1);
            });
            const h = m._crw_race_create(
                this.h,
                n,
                sp,
                kp,
                rules.countdown_ticks ?? 0,
                rules.time_limit_ticks ?? 60 * 3600,
                rules.stall_limit_ticks ?? 0,
                rules.cut_allowance_s ?? STANDARD_CUT.allowanceS,
                rules.cut_penalty_per_s ?? STANDARD_CUT.penaltyPerS,
            );
            if (!h) throw new EngineError(this.engine.lastError());
            return new EngineRace(this.engine, h, n);
        } finally {
            m._free(sp);
            m._free(kp);
        }
    }
}

export class EngineRace {
    constructor(engine, handle, nCars) {
        this.engine = engine;
        this.h = handle;
        this.nCars = nCars;
    }
    /** Packed input: throttle 0..255, brake 0..255, steer -127..127, flags bit0 nitro bit1 handbrake. */
    setPackedInput(car, throttle, brake, steer, flags) {
        const rc = this.engine.m._crw_race_set_input(this.h, car, throttle, brake, steer, flags);
        if (rc) throw new EngineError(this.engine.lastError());
    }
    /** Input from the protocol's action booleans (see services/protocol.js). */
    setActions(car, a) {
        const steer = (a.turn_left ? 127 : 0) - (a.turn_right ? 127 : 0);
        this.setPackedInput(
            car,
            a.accelerate ? 255 : 0,
            a.brake ? 255 : 0,
            steer,
            (a.nitro ? 1 : 0) | (a.handbrake ? 2 : 0),
        );
    }
    driveAI(car, skill = 1) {
        const rc = this.engine.m._crw_race_drive_ai(this.h, car, skill);
        if (rc) throw new EngineError(this.engine.lastError());
    }
    step() {
        const rc = this.engine.m._crw_race_step(this.h);
        if (rc) throw new EngineError(this.engine.lastError());
    }
    stepTo(tick) {
        return this.engine.m._crw_race_step_to(this.h, tick) >>> 0;
    }
    tick() {
        return this.engine.m._crw_race_tick(this.h) >>> 0;
    }
    phase() {
        return RACE_PHASES[this.engine.m._crw_race_phase(this.h)];
    }
    hash() {
        return this.engine.m.UTF8ToString(this.engine.m._crw_race_hash(this.h));
    }
    /** The race as the server's game_state describes it (tick, phase, time_s, cars). */
    snapshot() {
        const m = this.engine.m;
        m._crw_race_snapshot(this.h, this.engine.snapBuf);
        const f = new Float32Array(m.HEAPF32.buffer, this.engine.snapBuf, SNAP_HEADER + 16 * SNAP_CAR);
        const n = f[3];
        const cars = [];
        for (let i = 0; i < n; i++) {
            const o = SNAP_HEADER + SNAP_CAR * i;
            cars.push({
                x: f[o],
                y: f[o + 1],
                heading: f[o + 2],
                vx: f[o + 3],
                vy: f[o + 4],
                angular_velocity: f[o + 5],
                throttle: f[o + 6],
                steer: f[o + 7],
                surface: f[o + 8],
                flags: f[o + 9],
                nitro: f[o + 10],
                position: f[o + 11],
                checkpoints: f[o + 12],
                progress: f[o + 13],
                nitro_ticks: f[o + 14],
            });
        }
        return { tick: f[0], phase: RACE_PHASES[f[1]], time_s: f[2], cars };
    }
    /** What car's sensors see: position, heading, ray lengths, next checkpoint. */
    sensors(car) {
        const m = this.engine.m;
        const rc = m._crw_race_sensors(this.h, car, this.engine.sensBuf);
        if (rc) throw new EngineError(this.engine.lastError());
        const f = new Float32Array(m.HEAPF32.buffer, this.engine.sensBuf, SENSOR_FLOATS);
        return {
            x: f[0],
            y: f[1],
            heading: f[2],
            rays: Array.from(f.subarray(3, 3 + SENSOR_RAYS)),
            nextCheckpoint: Number.isNaN(f[3 + SENSOR_RAYS]) ? null : { x: f[3 + SENSOR_RAYS], y: f[4 + SENSOR_RAYS] },
        };
    }
    /** Puts car in the state the server reported (reconciliation). */
    setCar(car, s) {
        const rc = this.engine.m._crw_race_set_car(
            this.h,
            car,
            s.x,
            s.y,
            s.heading,
            s.vx,
            s.vy,
            s.angular_velocity ?? 0,
            s.nitro ?? 0,
        );
        if (rc) throw new EngineError(this.engine.lastError());
    }
    destroy() {
        if (this.h) this.engine.m._crw_race_destroy(this.h);
        this.h = 0;
    }
}

/**
 * Re-simulates a parsed replay (game/replay.js) on its compiled stage,
 * applying inputs exactly as `coderally replay verify` does and checking
 * every recorded state hash on the way. Seeking backwards restarts from tick 0
 * (a minute of race re-simulates in a few milliseconds).
 */
export class ReplaySimulator {
    constructor(stage, replay, rules) {
        this.stage = stage;
        this.replay = replay;
        this.rules = rules;
        this.race = null;
        this.mismatch = null;
        this.restart();
    }
    restart() {
        if (this.race) this.race.destroy();
        this.race = this.stage.createRace(
            this.replay.header.cars.map((c) => ({ stats: c.stats, kind: c.kindCode })),
            this.rules,
        );
        this.nextInput = 0;
        this.nextHash = 0;
        this.mismatch = null;
    }
    tick() {
        return this.race.tick();
    }
    done() {
        return this.race.tick() >= this.replay.finalTick || this.race.phase() === 'finished';
    }
    /** One step; false when the replay is over. */
    advance() {
        if (this.done()) return false;
        const { inputs, hashes } = this.replay;
        const tick = this.race.tick();
        for (; this.nextInput < inputs.length && inputs[this.nextInput].tick <= tick; this.nextInput++) {
            const i = inputs[this.nextInput];
            this.race.setPackedInput(i.car, i.throttle, i.brake, i.steer, i.flags);
        }
        this.race.step();
        const now = this.race.tick();
        for (; this.nextHash < hashes.length && hashes[this.nextHash].tick <= now; this.nextHash++) {
            const h = hashes[this.nextHash];
            if (h.tick === now && !this.mismatch && h.hash !== this.race.hash()) {
                this.mismatch = { tick: now, expected: h.hash, got: this.race.hash() };
            }
        }
        if (now === this.replay.finalTick && !this.mismatch && this.race.hash() !== this.replay.finalHash) {
            this.mismatch = { tick: now, expected: this.replay.finalHash, got: this.race.hash() };
        }
        return true;
    }
    /** Moves to tick (restarting if it lies behind). */
    seek(tick) {
        if (tick < this.race.tick()) this.restart();
        while (this.race.tick() < tick && this.advance());
        return this.race.tick();
    }
    /** Runs to the end; returns { ok, tick, hash, mismatch }. */
    verify() {
        while (this.advance());
        const ok =
            !this.mismatch && this.race.tick() === this.replay.finalTick && this.race.hash() === this.replay.finalHash;
        return { ok, tick: this.race.tick(), hash: this.race.hash(), mismatch: this.mismatch };
    }
    destroy() {
        if (this.race) this.race.destroy();
        this.race = null;
    }
}

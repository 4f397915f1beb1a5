// prediction.js - the player's own car answers the keys at once, Quake III /
// Source style. The client keeps a bounded ring of the inputs it sent, each
// with its tick. Every game_state carries the server's full state of our car
// at the snapshot's tick and `input_tick`, the tick of the last input the
// server had applied: acknowledged inputs leave the ring, and the car is
// re-simulated from the server's state through the inputs still in flight
// with the engine's own car_step compiled to WebAssembly (the server's C).
// When the new prediction disagrees with what was on screen, the difference
// is kept as a visual offset that decays over about 100 ms instead of
// snapping. Other cars stay interpolated in the past (interpolation.js).

import { carStateOf } from './engine.js';
import { wrapAngle } from './interpolation.js';

const SURFACE_INDEX = { asphalt: 0, gravel: 1, ice: 2 };

/** Inputs kept while unacknowledged: 2 s of a key change every tick. */
export const INPUT_RING = 128;
/** The visual correction's time to fade to 5 %. */
export const SMOOTH_MS = 100;
/** Steps per advance() or re-simulation at most (a hidden tab catches up over frames). */
export const MAX_STEPS = 60;
/** A correction larger than this (u) is a teleport: shown at once. */
export const SNAP_DISTANCE = 8;
/** Prediction errors kept for the statistics. */
const ERROR_SAMPLES = 2048;
const HISTORY = 256; // predicted positions by tick, for the error figure
const LIVE_PHASES = new Set(['countdown', 'running', 'finishing']);
const FLAG_DONE = 8 | 16; // finished, DNF: the server stops stepping the car

/** The engine's stage description from the server's geometry JSON. */
export function stageDescFromGeometry(g) {
    const n = g.centre.length;
    const surf = (i) => {
        const s = g.surfaces?.[Math.min(i, (g.surfaces?.length ?? 1) - 1)] ?? 'asphalt';
        return typeof s === 'number' ? s : (SURFACE_INDEX[s] ?? 0);
    };
    const points = g.centre.map(([x, y], i) => [x, y, Array.isArray(g.width) ? g.width[i] : g.width, surf(i)]);
    const checkpoints = (g.checkpoints ?? []).map((c) => (typeof c === 'number' ? c : c.point));
    return { points: points.slice(0, n), checkpoints, min_length: 1, max_length: 1e6 };
}

export function actionsToPacked(a) {
    return [
        a.accelerate ? 255 : 0,
        a.brake ? 255 : 0,
        (a.turn_left ? 127 : 0) - (a.turn_right ? 127 : 0),
        (a.nitro ? 1 : 0) | (a.handbrake ? 2 : 0),
    ];
}

const NO_INPUT = [0, 0, 0, 0];

/** The first tick whose step moves the cars: the countdown's length in ticks. */
export function startTickOf(tick, raceInfo) {
    const t = raceInfo?.time;
    return typeof t === 'number' && Number.isFinite(t) ? Math.max(0, Math.round(tick - t * 60)) : 0;
}

export class Predictor {
    /**
     * engine: game/engine.js Engine; geometry: server stage JSON; stats: 8
     * CarStats numbers. opts: ringSize, smoothMs.
     */
    constructor(engine, geometry, stats, { ringSize = INPUT_RING, smoothMs = SMOOTH_MS } = {}) {
        this.stage = engine.createStage(stageDescFromGeometry(geometry));
        this.exact = !geometry.hash || this.stage.hash() === geometry.hash;
        this.car = engine.createCar(stats);
        this.ringSize = ringSize;
        this.smoothMs = smoothMs;
        this.ring = []; // unacknowledged inputs { tick, packed }, ticks ascending
        this.held = NO_INPUT; // the input the server holds for the car (the last acked)
        this.lastSent = -1; // tick of the newest input
        this.ackTick = null;
        this.baseTick = null; // tick of the server state the car restarted from
        this.simTick = null; // tick the local car has reached
        this.startTick = 0;
        this.live = false; // the server steps the car: predict it
        this.offset = { x: 0, y: 0, heading: 0 }; // what is drawn minus the prediction
        this.offsetAt = null; // ms the offset was last decayed to
        this.history = new Map(); // tick -> { x, y } predicted
        this.errors = []; // |prediction - server| at the snapshot's tick, u
        this.corrections = 0; // reconciliations that moved the drawn car
    }

    /**
     * The tick to send with an input made at server tick estimate `tick`:
     * strictly increasing, so an acknowledgement names exactly the inputs
     * applied up to it.
     */
    nextTick(tick) {
        return Math.max(Math.floor(tick), this.lastSent + 1);
    }

    /** Records the input sent with tick (from nextTick). Bounded: the oldest input beyond the ring becomes the held one. */
    input(tick, actions) {
        const packed = actionsToPacked(actions);
        this.lastSent = Math.max(this.lastSent, tick);
        this.ring.push({ tick, packed });
        while (this.ring.length > this.ringSize) this.held = this.ring.shift().packed;
    }

    /** Inputs sent and not yet acknowledged by the server. */
    pending() {
        return this.ring.length;
    }

    /** The input in force for the step from tick t (re-simulating from baseTick). */
    inputAt(t) {
        let p = this.held;
        for (const h of this.ring) {
            // Not applied by the snapshot: it reaches the server after baseTick.
            if (Math.max(h.tick, this.baseTick) <= t) p = h.packed;
            else break;
        }
        return p;
    }

    step() {
        const t = this.simTick;
        this.car.setPackedInput(...this.inputAt(t));
        // The race steps no car during the countdown (race_step).
        if (t >= this.startTick) this.car.step(this.stage);
        this.simTick = t + 1;
        const s = this.car.state();
        this.history.set(this.simTick, { x: s.x, y: s.y });
        if (this.history.size > HISTORY) this.history.delete(this.history.keys().next().value);
    }

    /** The drawn pose at nowMs: the prediction plus the decaying correction. */
    drawn(nowMs) {
        const s = this.car.state();
        const k = this.decay(nowMs);
        return {
            ...s,
            x: s.x + this.offset.x * k,
            y: s.y + this.offset.y * k,
            heading: wrapAngle(s.heading + this.offset.heading * k),
        };
    }

    decay(nowMs) {
        if (nowMs === undefined || this.offsetAt === null) return 1;
        return Math.exp((-3 * Math.max(0, nowMs - this.offsetAt)) / this.smoothMs);
    }

    /** Folds the decay so far into the offset. */
    settle(nowMs) {
        const k = this.decay(nowMs);
        this.offset = { x: this.offset.x * k, y: this.offset.y * k, heading: this.offset.heading * k };
        this.offsetAt = nowMs ?? null;
    }

    /**
     * A game_state for our car: tick, the car's entry (full state and
     * input_tick) and race_info. Drops the acknowledged inputs, restarts the
     * car from the server's state and replays the rest up to where the
     * prediction was; returns the prediction error at tick (u) or null.
     */
    reconcile(tick, car, raceInfo = null, nowMs = undefined) {
        if (this.simTick !== null && tick < this.baseTick) return null; // an older snapshot
        const wasLive = this.live && this.simTick !== null;
        // A snapshot can land before the frame that reaches its tick: bring
        // the prediction there first, to compare (and draw) like with like.
        if (wasLive) for (let n = 0; this.simTick < tick && n < MAX_STEPS; n++) this.step();
        const predicted = wasLive ? this.history.get(tick) : undefined;
        const err = predicted ? Math.hypot(predicted.x - car.x, predicted.y - car.y) : null;
        if (err !== null) {
            this.errors.push(err);
            if (this.errors.length > ERROR_SAMPLES) this.errors.shift();
        }
        const before = wasLive ? this.drawn(nowMs) : null;
        const phase = raceInfo?.phase;
        this.live = (phase === undefined || LIVE_PHASES.has(phase)) && !((car.flags ?? 0) & FLAG_DONE);
        if (raceInfo) this.startTick = startTickOf(tick, raceInfo);
        const ack = car.input_tick;
        if (Number.isInteger(ack)) {
            this.ackTick = ack;
            while (this.ring.length && this.ring[0].tick <= ack) this.held = this.ring.shift().packed;
        }
        const target = Math.max(tick, this.simTick ?? tick);
        this.car.setState(carStateOf(car));
        this.baseTick = tick;
        this.simTick = tick;
        for (const t of [...this.history.keys()]) if (t > tick) this.history.delete(t);
        this.history.set(tick, { x: car.x, y: car.y });
        for (let n = 0; this.simTick < target && n < MAX_STEPS; n++) this.step();
        if (before) {
            const s = this.car.state();
            this.settle(nowMs);
            const off = {
                x: before.x - s.x,
                y: before.y - s.y,
                heading: wrapAngle(before.heading - s.heading),
            };
            if (Math.hypot(off.x, off.y) > SNAP_DISTANCE) this.offset = { x: 0, y: 0, heading: 0 };
            else this.offset = off;
            if (Math.hypot(off.x, off.y) > 1e-3 || Math.abs(off.heading) > 1e-4) this.corrections += 1;
        } else {
            this.offset = { x: 0, y: 0, heading: 0 };
            this.offsetAt = nowMs ?? null;
        }
        return err;
    }

    /**
     * Steps the car up to tick (at most MAX_STEPS a call) and returns the
     * pose to draw at nowMs, or null when the server's car should be drawn
     * (no server state yet, the race not running, the car out).
     */
    advance(tick, nowMs = undefined) {
        if (this.simTick === null || !this.live) return null;
        for (let n = 0; this.simTick < tick && n < MAX_STEPS; n++) this.step();
        return this.drawn(nowMs);
    }

    /** Forgets the error samples (to measure one stretch of driving). */
    resetErrors() {
        this.errors = [];
        this.corrections = 0;
    }

    /** { n, p50, p95, max } of the prediction errors so far (u). */
    errorStats() {
        const e = [...this.errors].sort((a, b) => a - b);
        const q = (p) => (e.length ? e[Math.min(e.length - 1, Math.floor(p * e.length))] : null);
        return { n: e.length, p50: q(0.5), p95: q(0.95), max: e.length ? e[e.length - 1] : null };
    }

    destroy() {
        this.car.destroy();
        this.stage.destroy();
    }
}

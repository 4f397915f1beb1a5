// interpolation.js - turns 20 Hz snapshots into smooth 60 FPS motion: the
// view is drawn about 100 ms in the past, between the two snapshots around
// that moment, with headings interpolated the short way round.

export const TICK_RATE = 60;
export const TICK_MS = 1000 / TICK_RATE;

/** Angle in (-pi, pi]. */
export function wrapAngle(a) {
    let r = a % (2 * Math.PI);
    if (r <= -Math.PI) r += 2 * Math.PI;
    else if (r > Math.PI) r -= 2 * Math.PI;
    return r;
}

/** a -> b by t along the shorter arc. */
export function lerpAngle(a, b, t) {
    return wrapAngle(a + wrapAngle(b - a) * t);
}

export function lerp(a, b, t) {
    return a + (b - a) * t;
}

/** Interpolated car between two snapshots of the same car. */
export function lerpCar(a, b, t) {
    return {
        ...(t < 0.5 ? a : b),
        x: lerp(a.x, b.x, t),
        y: lerp(a.y, b.y, t),
        heading: lerpAngle(a.heading, b.heading, t),
        vx: lerp(a.vx ?? 0, b.vx ?? 0, t),
        vy: lerp(a.vy ?? 0, b.vy ?? 0, t),
        angular_velocity: lerp(a.angular_velocity ?? 0, b.angular_velocity ?? 0, t),
    };
}

/**
 * A buffer of server snapshots keyed by tick, and a clock mapping local time
 * to server ticks. push() each game_state with the local receive time;
 * sample(now) gives the cars as they were delayMs before the newest data.
 */
export class SnapshotBuffer {
    constructor({ delayMs = 100, capacity = 64 } = {}) {
        this.delayMs = delayMs;
        this.capacity = capacity;
        this.snaps = [];
        this.offset = null; // local ms at server tick 0
    }

    clear() {
        this.snaps = [];
        this.offset = null;
    }

    push(snap, nowMs) {
        const last = this.snaps[this.snaps.length - 1];
        if (last && snap.tick <= last.tick) {
            if (snap.tick === last.tick) this.snaps[this.snaps.length - 1] = snap;
            return; // late or duplicate: ignore
        }
        this.snaps.push(snap);
        if (this.snaps.length > this.capacity) this.snaps.shift();
        // The earliest arrival seen is the least delayed: follow it down at once,
        // drift up slowly (so one late packet does not jerk the clock).
        const off = nowMs - snap.tick * TICK_MS;
        if (this.offset === null || off < this.offset) this.offset = off;
        else this.offset += (off - this.offset) * 0.02;
    }

    /** The server tick (fractional) drawn at local time nowMs. */
    renderTick(nowMs) {
        if (this.offset === null) return null;
        return (nowMs - this.offset - this.delayMs) / TICK_MS;
    }

    latest() {
        return this.snaps[this.snaps.length - 1] ?? null;
    }

    /** { tick, cars, race_info, extrapolated } at local time nowMs, or null. */
    sample(nowMs) {
        const n = this.snaps.length;
        if (!n) return null;
        const tick = this.renderTick(nowMs);
        if (n === 1 || tick <= this.snaps[0].tick) {
            const s = this.snaps[0];
            return { tick: s.tick, cars: s.cars, race_info: s.race_info, extrapolated: false };
        }
        const last = this.snaps[n - 1];
        if (tick >= last.tick) {
            return { tick: last.tick, cars: last.cars, race_info: last.race_info, extrapolated: tick > last.tick };
        }
        let i = n - 2;
        while (i > 0 && this.snaps[i].tick > tick) i--;
        const a = this.snaps[i];
        const b = this.snaps[i + 1];
        const t = (tick - a.tick) / (b.tick - a.tick);
        const byId = new Map(b.cars.map((c) => [c.id, c]));
        const cars = a.cars.map((ca) => {
            const cb = byId.get(ca.id);
            return cb ? lerpCar(ca, cb, t) : ca;
        });
        return { tick, cars, race_info: t < 0.5 ? a.race_info : b.race_info, extrapolated: false };
    }
}

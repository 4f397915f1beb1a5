// prediction.js - the player's own car answers the keys at once: a one-car
// race in the WebAssembly engine (the server's own physics) runs ahead of the
// server from the last authoritative snapshot, replaying the inputs sent
// since; each new snapshot resets the car to the server's state and replays
// again (Quake III / Source style). Other cars stay interpolated.

const SURFACE_INDEX = { asphalt: 0, gravel: 1, ice: 2 };

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

export class Predictor {
    /** engine: game/engine.js Engine; geometry: server stage JSON; stats: 8 CarStats numbers. */
    constructor(engine, geometry, stats) {
        this.stage = engine.createStage(stageDescFromGeometry(geometry));
        this.exact = !geometry.hash || this.stage.hash() === geometry.hash;
        this.race = this.stage.createRace([{ stats, kind: 'human' }], {
            countdown_ticks: 0,
            time_limit_ticks: 60 * 3600,
            stall_limit_ticks: 0,
        });
        this.history = []; // { tick, packed } in server ticks, ascending
        this.baseTick = null; // server tick of the snapshot the car was reset to
        this.simTick = null; // server tick the local car has reached
        this.current = [0, 0, 0, 0];
    }

    /** Records the input in force from server tick `tick` on. */
    input(tick, actions) {
        this.current = actionsToPacked(actions);
        this.history.push({ tick, packed: this.current });
        if (this.history.length > 600) this.history.shift();
    }

    inputAt(tick) {
        let p = null;
        for (const h of this.history) {
            if (h.tick <= tick) p = h.packed;
            else break;
        }
        return p ?? [0, 0, 0, 0];
    }

    /** Resets to the server's view of the car at snapshot tick. */
    reconcile(tick, car) {
        this.race.setCar(0, car);
        this.baseTick = tick;
        this.simTick = tick;
        this.history = this.history.filter(
            (h, i, a) => h.tick >= tick || (a[i + 1] && a[i + 1].tick > tick) || i === a.length - 1,
        );
    }

    /** Steps the car up to server tick `tick` (never more than 30 steps a call); returns its snapshot. */
    advance(tick) {
        if (this.simTick === null) return null;
        let steps = 0;
        while (this.simTick < tick && steps < 30) {
            this.race.setPackedInput(0, ...this.inputAt(this.simTick));
            this.race.step();
            this.simTick += 1;
            steps += 1;
        }
        return this.race.snapshot().cars[0];
    }

    destroy() {
        this.race.destroy();
        this.stage.destroy();
    }
}

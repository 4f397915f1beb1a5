// demo.js - a race that needs no server: a winding stage made here, eight
// cars in the WebAssembly engine (car 0 by keyboard, the rest the built-in
// AI), snapshots taken at 20 Hz into the same SnapshotBuffer the live view
// uses. For offline play, the renderer's smoke test and the FPS benchmark.

import { SnapshotBuffer, TICK_MS } from './interpolation.js';
import { stageDescFromGeometry } from './prediction.js';

const HATCH = [44, 15, 1, 30, 2, 100, 2.3, 1050];

/** A non-self-crossing winding road heading east: centre, widths, surfaces. */
export function demoStage(length = 1600, step = 8) {
    const centre = [[0, 0]];
    let h = 0;
    let x = 0;
    let y = 0;
    for (let s = step; s <= length; s += step) {
        // Straight for the start grid, then curves faded in.
        const fade = Math.max(0, Math.min(1, (s - 100) / 150));
        h = fade * (0.9 * Math.sin((s - 100) / 170) + 0.35 * Math.sin((s - 100) / 53));
        x += Math.cos(h) * step;
        y += Math.sin(h) * step;
        centre.push([x, y]);
    }
    const n = centre.length;
    const width = centre.map((_, i) => 13 + 3 * Math.sin(i / 17));
    const surfaces = centre
        .slice(1)
        .map((_, i) => (i < n * 0.4 ? 'asphalt' : i < n * 0.75 ? 'gravel' : i < n * 0.85 ? 'ice' : 'asphalt'));
    const checkpoints = [];
    for (let i = 40; i < n - 20; i += 40) checkpoints.push({ index: checkpoints.length, point: i });
    return { generator: 'demo', centre, width, surfaces, checkpoints };
}

export class DemoRace {
    constructor(engine, { cars = 8, geometry = demoStage(), countdownTicks = 180 } = {}) {
        this.geometry = geometry;
        this.stage = engine.createStage(stageDescFromGeometry(geometry));
        const entries = [];
        for (let i = 0; i < cars; i++) entries.push({ stats: HATCH, kind: i === 0 ? 'human' : 'ai' });
        this.race = this.stage.createRace(entries, {
            countdown_ticks: countdownTicks,
            time_limit_ticks: 60 * 600,
            stall_limit_ticks: 0,
        });
        this.buffer = new SnapshotBuffer({ delayMs: 100 });
        this.t0 = null;
        this.nCars = cars;
        this.sensors = new Map();
        this.keyboard = { accelerate: false };
    }

    /** Runs the simulation up to wall time nowMs at 60 Hz; snapshots every 3rd tick. */
    update(nowMs) {
        if (this.t0 === null) this.t0 = nowMs;
        const want = Math.floor((nowMs - this.t0) / TICK_MS);
        let steps = 0;
        while (this.race.tick() < want && steps < 10 && this.race.phase() !== 'finished') {
            this.race.setActions(0, this.keyboard);
            for (let c = 1; c < this.nCars; c++) this.race.driveAI(c, 0.7 + 0.04 * c);
            this.race.step();
            steps += 1;
            const tick = this.race.tick();
            if (tick % 3 === 0) {
                const s = this.race.snapshot();
                const cars = s.cars.map((c, id) => ({ ...c, id }));
                this.buffer.push(
                    { tick, cars, race_info: { phase: s.phase, time: s.time_s } },
                    this.t0 + tick * TICK_MS,
                );
                for (let c = 0; c < this.nCars; c++) this.sensors.set(c, this.race.sensors(c).rays);
            }
        }
    }

    destroy() {
        this.race.destroy();
        this.stage.destroy();
    }
}

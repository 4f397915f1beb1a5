// liverays.js - the debug overlay's ray casts for a live race: the server
// sends positions, not sensors, so the rays are cast here by the same C
// (the WebAssembly engine's stage and sensors) from each car's drawn pose:
// a race of ghost cars on the stage, each put where the snapshot says and
// asked what its sensors see. Plain module, no React.
import { stageDescFromGeometry } from './prediction.js';

// Stats only shape the physics; sensors read the pose alone.
const STATS = [44, 15, 1, 30, 2, 100, 2.3, 1050];
const RULES = { countdown_ticks: 0, time_limit_ticks: 60 * 3600, stall_limit_ticks: 0 };

export class LiveRays {
    /** engine: game/engine.js Engine; geometry: the server's stage JSON; nCars: slots. */
    constructor(engine, geometry, nCars = 8) {
        this.stage = engine.createStage(stageDescFromGeometry(geometry));
        this.n = Math.max(1, Math.min(16, nCars));
        this.race = this.stage.createRace(
            Array.from({ length: this.n }, () => ({ stats: STATS, kind: 'human' })),
            RULES,
        );
    }

    /** Map(car id -> ray lengths) for the cars as drawn (the first n that are not ghosts). */
    cast(cars) {
        const out = new Map();
        let k = 0;
        for (const c of cars) {
            if (c.ghost) continue;
            if (k >= this.n) break;
            try {
                this.race.setCar(k, { x: c.x, y: c.y, heading: c.heading, vx: 0, vy: 0, nitro: 0 });
                out.set(c.id, this.race.sensors(k).rays);
            } catch {
                /* a pose the engine refuses: no rays for that car this frame */
            }
            k += 1;
        }
        return out;
    }

    destroy() {
        this.race?.destroy();
        this.stage?.destroy();
        this.race = null;
        this.stage = null;
    }
}

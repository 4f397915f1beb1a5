// hud.js - what the HUD shows for the followed car, from a snapshot car and
// the race info; split times are kept here (time at each checkpoint change).
import { FLAG, speedKmh } from './renderer.js';

export class SplitClock {
    constructor() {
        this.last = new Map();
    }
    /** Time since car id last passed a checkpoint (or the start). */
    split(car, time) {
        const rec = this.last.get(car.id);
        if (!rec || rec.cp !== car.checkpoints) {
            this.last.set(car.id, { cp: car.checkpoints, at: rec ? time : Math.max(0, time) });
            return time - (rec ? time : Math.max(0, time));
        }
        return time - rec.at;
    }
}

export function hudFor(car, info, geo, splits, extra = {}) {
    if (!car) return { speed: 0, countdown: extra.countdown ?? null, banner: extra.banner };
    const time = typeof info?.time === 'number' ? info.time : typeof car.time === 'number' ? car.time : null;
    const total = geo ? geo.checkpoints.length : 0;
    const passed = car.checkpoints ?? 0;
    return {
        speed: speedKmh(car),
        position: car.position,
        cars: extra.cars,
        nextCheckpoint: passed >= total ? 'finish' : `${passed + 1}/${total}`,
        time,
        split: time !== null && splits ? splits.split(car, time) : null,
        nitro: car.nitro ?? car.nitro_charges ?? null,
        nitroActive: !!(car.flags & FLAG.nitro),
        countdown: time !== null && time < 0.9 ? -time : (extra.countdown ?? null),
        banner: extra.banner,
    };
}

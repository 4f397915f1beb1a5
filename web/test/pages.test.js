// Helpers behind the pages: routes, the editor's markers, the HUD, the replay
// viewer's rules and drawings, stage conversion for the engine, stat bars.
import { describe, expect, it } from 'vitest';
import { parseRoute } from '../src/router.js';
import { parseErrorLine, problemsToMarkers } from '../src/editor/debugger.js';
import { hudFor, SplitClock } from '../src/game/hud.js';
import { stageGeometry } from '../src/game/renderer.js';
import { actionsToPacked, stageDescFromGeometry } from '../src/game/prediction.js';
import { drawingsAt, simRules } from '../src/components/race/ReplayPage.jsx';
import { barShare } from '../src/components/garage/GaragePage.jsx';

describe('routes', () => {
    it('parses names, arguments and queries', () => {
        expect(parseRoute('#/race/abc%201?spectate=1')).toEqual({
            name: 'race',
            args: ['abc 1'],
            query: { spectate: '1' },
        });
        expect(parseRoute('')).toEqual({ name: 'home', args: [], query: {} });
        expect(parseRoute('#/bots/7').args).toEqual(['7']);
    });
});

describe('editor problems', () => {
    it('become error markers on their lines, clamped to the file', () => {
        const m = problemsToMarkers(
            [{ line: 3, message: 'bad' }, { line: 99, message: 'far' }, { message: 'no line' }],
            10,
        );
        expect(m.map((x) => x.startLineNumber)).toEqual([3, 10, 1]);
        expect(m[0]).toMatchObject({ severity: 8, message: 'bad', source: 'sandbox' });
        expect(problemsToMarkers(undefined, 5)).toEqual([]);
    });
    it('log lines with a line number become problems', () => {
        expect(parseErrorLine('bot.py:12: NameError: x')).toEqual({ line: 12, message: 'NameError: x' });
        expect(parseErrorLine('error at line 4, tick 30: boom')).toEqual({ line: 4, message: 'tick 30: boom' });
        expect(parseErrorLine('nothing here')).toBeNull();
    });
});

describe('HUD', () => {
    const geo = stageGeometry({
        centre: [
            [0, 0],
            [0, 50],
            [0, 100],
            [0, 150],
        ],
        width: 10,
        checkpoints: [1, 2],
    });
    it('shows speed, position, next checkpoint, time, split and nitro', () => {
        const splits = new SplitClock();
        const car = { id: 0, x: 0, y: 0, heading: 0, vx: 10, vy: 0, position: 2, checkpoints: 0, nitro: 2, flags: 2 };
        let h = hudFor(car, { time: 5 }, geo, splits, { cars: 4 });
        expect(h).toMatchObject({
            speed: 36,
            position: 2,
            cars: 4,
            nextCheckpoint: '1/2',
            time: 5,
            nitro: 2,
            nitroActive: true,
        });
        h = hudFor({ ...car, checkpoints: 1 }, { time: 9 }, geo, splits, {});
        expect(h.split).toBe(0);
        h = hudFor({ ...car, checkpoints: 1 }, { time: 10.5 }, geo, splits, {});
        expect(h.split).toBeCloseTo(1.5);
        expect(hudFor({ ...car, checkpoints: 2 }, { time: 11 }, geo, splits, {}).nextCheckpoint).toBe('finish');
    });
    it('counts down before the start', () => {
        const h = hudFor({ id: 0, x: 0, y: 0, vx: 0, vy: 0 }, { time: -2.4 }, geo, null, {});
        expect(h.countdown).toBeCloseTo(2.4);
    });
});

describe('replay viewer and prediction helpers', () => {
    it('takes the rules numbers from the API answer, and refuses one without them', () => {
        // GET /api/rules/standard?generator=forest&seed=3 (a stage 1900 u long).
        const api = {
            name: 'standard',
            hash: '0123456789abcdef',
            countdown_s: 3,
            countdown_ticks: 180,
            time_limit_s: 297.5,
            time_limit_ticks: 17850,
            stall_limit_s: 30,
            stall_limit_ticks: 1800,
            per_stage: ['time_limit'],
            points: [25, 18, 15, 12, 10, 8, 6, 4],
        };
        expect(simRules(api)).toEqual({ countdown_ticks: 180, time_limit_ticks: 17850, stall_limit_ticks: 1800 });
        // Without a stage the time limit is null: no simulation on a guess.
        expect(() => simRules({ ...api, time_limit_ticks: null })).toThrow(/time_limit_ticks/);
        expect(() => simRules(undefined)).toThrow(/countdown_ticks/);
    });
    it('takes the latest drawings of each car', () => {
        const rep = {
            drawings: [
                { tick: 3, car: 0, items: [{ kind: 'line' }] },
                { tick: 6, car: 1, items: [{ kind: 'circle' }] },
                { tick: 9, car: 0, items: [{ kind: 'text' }] },
            ],
        };
        expect(drawingsAt(rep, 7).map((d) => d.kind)).toEqual(['line', 'circle']);
        expect(drawingsAt(rep, 9).map((d) => d.kind)).toEqual(['text', 'circle']);
        expect(drawingsAt(rep, 1)).toEqual([]);
    });
    it('converts server geometry to engine points', () => {
        const d = stageDescFromGeometry({
            centre: [
                [0, 0],
                [10, 0],
                [20, 0],
            ],
            width: [8, 9, 10],
            surfaces: ['gravel', 'ice'],
            checkpoints: [{ index: 0, point: 1 }],
        });
        expect(d.points).toEqual([
            [0, 0, 8, 1],
            [10, 0, 9, 2],
            [20, 0, 10, 2],
        ]);
        expect(d.checkpoints).toEqual([1]);
        expect(actionsToPacked({ accelerate: true, turn_right: true, handbrake: true })).toEqual([255, 0, -127, 2]);
    });
    it('stat bars scale over the engine ranges', () => {
        expect(barShare('grip', 0.2)).toBe(0);
        expect(barShare('grip', 3)).toBe(1);
        expect(barShare('top_speed', 102.5)).toBeCloseTo(0.5);
    });
});

import { describe, expect, it } from 'vitest';
import { decode, ProtocolError } from '../src/services/protocol.js';
import {
    describeError,
    errorsToProblems,
    initialTestRun,
    LOG_MAX_LINES,
    myBotCar,
    testRunReducer,
} from '../src/editor/testrun.js';
import { problemsToMarkers } from '../src/editor/debugger.js';

const msg = (o) => decode(JSON.stringify(o));

describe('bot feed messages (decode)', () => {
    it('reads bot_log, bot_error and bot_draw as the server sends them', () => {
        const log = msg({ type: 'bot_log', car: 1, lines: ['tick 3', '[tick 6] reply late'], dropped: 0 });
        expect(log.lines).toEqual(['tick 3', '[tick 6] reply late']);
        const err = msg({
            type: 'bot_error',
            car: 1,
            index: 0,
            tick: 240,
            line: 12,
            cause: 'ValueError: boom',
            message: 'on_tick: line 12 in on_tick: ValueError: boom',
            count: 3,
        });
        expect(err.line).toBe(12);
        const load = msg({
            type: 'bot_error',
            car: 0,
            index: -1,
            tick: null,
            line: null,
            cause: 'x',
            message: 'x',
            count: 1,
        });
        expect(load.tick).toBeNull();
        const draw = msg({
            type: 'bot_draw',
            car: 1,
            tick: 243,
            drawings: [
                { kind: 'line', rgb: 0xff0000, a: 1, b: 2, c: 3, d: 4 },
                { kind: 'text', rgb: 0xffffff, a: 1, b: 2, c: 0, d: 0, text: 'hi' },
            ],
            dropped: 2,
        });
        // The same shape as a replay's drawings, so one renderer draws both.
        expect(draw.drawings[0]).toEqual({ kind: 'line', rgb: 0xff0000, a: 1, b: 2, c: 3, d: 4, text: '' });
        expect(draw.drawings[1].text).toBe('hi');
        expect(draw.dropped).toBe(2);
    });

    it('refuses malformed ones', () => {
        const bad = [
            { type: 'bot_log', car: 0, lines: [1] },
            { type: 'bot_log', car: -1, lines: [] },
            { type: 'bot_log', car: 0, lines: [], dropped: -1 },
            { type: 'bot_error', car: 0, index: 0, tick: 1, line: 0, cause: 'c', message: 'm', count: 1 },
            { type: 'bot_error', car: 0, index: 0, tick: 1.5, line: 2, cause: 'c', message: 'm', count: 1 },
            { type: 'bot_error', car: 0, index: 0, tick: 1, line: 2, message: 'm', count: 1 },
            { type: 'bot_draw', car: 0, tick: 3, drawings: [{ kind: 'square', rgb: 0, a: 0, b: 0, c: 0, d: 0 }] },
            { type: 'bot_draw', car: 0, tick: 3, drawings: [{ kind: 'line', rgb: 0x1000000, a: 0, b: 0, c: 0, d: 0 }] },
            { type: 'bot_draw', car: 0, tick: 3, drawings: [{ kind: 'line', rgb: 0, a: 'x', b: 0, c: 0, d: 0 }] },
            { type: 'bot_draw', car: 0, drawings: [] },
        ];
        for (const b of bad) expect(() => msg(b), JSON.stringify(b)).toThrow(ProtocolError);
    });
});

function started() {
    let s = testRunReducer(initialTestRun, { type: 'testrun/creating' });
    s = testRunReducer(s, { type: 'testrun/created', raceId: 'r1' });
    return testRunReducer(s, {
        type: 'testrun/start',
        userId: 7,
        msg: {
            cars: [
                { id: 0, kind: 'human', user: { id: 7 } },
                { id: 1, kind: 'bot', user: { id: 7 } },
                { id: 2, kind: 'ai', user: null },
            ],
        },
    });
}

describe('testRunReducer', () => {
    it('finds my bot car in race_start', () => {
        expect(started().carIndex).toBe(1);
        expect(started().status).toBe('countdown');
        expect(myBotCar({ cars: [{ id: 0, kind: 'bot', user: { id: 8 } }] }, 7)).toBeNull();
    });

    it('moves through lobby, running and finished', () => {
        let s = testRunReducer(initialTestRun, { type: 'testrun/created', raceId: 'r1' });
        expect(testRunReducer(s, { type: 'testrun/lobby', msg: { race_id: 'other', state: 'open' } })).toBe(s);
        s = testRunReducer(s, { type: 'testrun/lobby', msg: { race_id: 'r1', state: 'open' } });
        expect(s.status).toBe('lobby');
        s = started();
        s = testRunReducer(s, { type: 'testrun/tick', phase: 'running' });
        expect(s.status).toBe('running');
        s = testRunReducer(s, { type: 'testrun/end', msg: { results: [{ position: 1 }] } });
        expect(s.status).toBe('finished');
        expect(testRunReducer(s, { type: 'testrun/lobby', msg: { race_id: 'r1', state: 'running' } }).status).toBe(
            'finished',
        );
        expect(testRunReducer(s, { type: 'testrun/failed', message: 'no' }).error).toBe('no');
    });

    it('keeps the log capped, numbered, and counts what the server dropped', () => {
        let s = started();
        s = testRunReducer(s, { type: 'testrun/log', msg: { car: 1, lines: ['a', 'b'], dropped: 0 } });
        s = testRunReducer(s, { type: 'testrun/log', msg: { car: 2, lines: ['not mine'], dropped: 0 } });
        expect(s.log).toEqual([
            { n: 1, text: 'a' },
            { n: 2, text: 'b' },
        ]);
        const many = Array.from({ length: LOG_MAX_LINES + 10 }, (_, i) => `l${i}`);
        s = testRunReducer(s, { type: 'testrun/log', msg: { car: 1, lines: many, dropped: 5 } });
        expect(s.log.length).toBe(LOG_MAX_LINES);
        expect(s.logTotal).toBe(LOG_MAX_LINES + 12);
        expect(s.log[s.log.length - 1]).toEqual({ n: LOG_MAX_LINES + 12, text: `l${LOG_MAX_LINES + 9}` });
        expect(s.dropped).toBe(5);
    });

    it('lists errors by index, updating counts, and makes markers of those with a line', () => {
        let s = started();
        const e = { car: 1, index: 0, tick: 240, line: 12, cause: 'ValueError: boom', message: 'm', count: 1 };
        s = testRunReducer(s, { type: 'testrun/error', msg: e });
        s = testRunReducer(s, {
            type: 'testrun/error',
            msg: { ...e, index: 1, tick: 300, line: null, cause: 'worker lost', count: 1 },
        });
        s = testRunReducer(s, { type: 'testrun/error', msg: { ...e, count: 7 } });
        expect(s.errors.map((x) => [x.index, x.count])).toEqual([
            [0, 7],
            [1, 1],
        ]);
        const problems = errorsToProblems(s.errors);
        expect(problems).toEqual([{ line: 12, message: 'ValueError: boom (test run, tick 240, 7×)' }]);
        const markers = problemsToMarkers(problems, 40);
        expect(markers[0]).toMatchObject({ startLineNumber: 12, endLineNumber: 12, severity: 8 });
        expect(describeError(s.errors[0])).toBe('tick 240 · line 12 · ValueError: boom (7×)');
        expect(describeError({ tick: null, line: null, cause: '', message: 'did not load', count: 1 })).toBe(
            'at load · did not load',
        );
    });

    it('keeps the newest drawings of my car only', () => {
        let s = started();
        const d = [{ kind: 'circle', rgb: 0xff, a: 1, b: 2, c: 3, d: 0, text: '' }];
        s = testRunReducer(s, { type: 'testrun/draw', msg: { car: 1, tick: 30, drawings: d } });
        expect(s.drawings).toBe(d);
        expect(testRunReducer(s, { type: 'testrun/draw', msg: { car: 1, tick: 27, drawings: [] } })).toBe(s);
        expect(testRunReducer(s, { type: 'testrun/draw', msg: { car: 0, tick: 33, drawings: [] } })).toBe(s);
        s = testRunReducer(s, { type: 'testrun/draw', msg: { car: 1, tick: 33, drawings: [] } });
        expect(s.drawings).toEqual([]);
    });

    it('ignores feed messages before a run has a room', () => {
        const s = testRunReducer(initialTestRun, {
            type: 'testrun/log',
            msg: { car: 0, lines: ['x'], dropped: 0 },
        });
        expect(s).toBe(initialTestRun);
    });
});

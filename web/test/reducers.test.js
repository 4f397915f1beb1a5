import { describe, expect, it } from 'vitest';
import {
    authReducer,
    editorReducer,
    initialAuth,
    initialEditor,
    initialRace,
    NOTICES_MAX,
    raceReducer,
} from '../src/state/reducers.js';

describe('authReducer', () => {
    it('puts an error next to its field, or on the form', () => {
        let s = authReducer(initialAuth, { type: 'auth/pending' });
        expect(s.pending).toBe(true);
        s = authReducer(s, { type: 'auth/failed', field: 'username', message: 'taken' });
        expect(s.errors).toEqual({ username: 'taken' });
        expect(s.pending).toBe(false);
        s = authReducer(s, { type: 'auth/failed', field: null, message: 'bad credentials' });
        expect(s.errors).toEqual({ form: 'bad credentials' });
    });
    it('logs in, updates points, logs out', () => {
        let s = authReducer(initialAuth, { type: 'auth/loggedIn', user: { id: 1, username: 'ada', points: 1000 } });
        expect(s.status).toBe('in');
        s = authReducer(s, { type: 'auth/points', points: 750 });
        expect(s.user.points).toBe(750);
        s = authReducer(s, { type: 'auth/loggedOut' });
        expect(s).toEqual({ ...initialAuth, status: 'out' });
        expect(authReducer(s, { type: 'auth/points', points: 5 })).toBe(s);
    });
});

describe('raceReducer', () => {
    it('follows a race from join to results and ignores old ticks and other rooms', () => {
        let s = raceReducer(initialRace, { type: 'race/join', raceId: 'r1', role: 'player' });
        expect(s.status).toBe('joining');
        s = raceReducer(s, { type: 'race/lobby', msg: { race_id: 'r1', state: 'open', players: [] } });
        expect(s.status).toBe('lobby');
        expect(raceReducer(s, { type: 'race/lobby', msg: { race_id: 'r2', state: 'running', players: [] } })).toBe(s);
        s = raceReducer(s, { type: 'race/start', msg: { countdown: 3, tick: 0 } });
        expect(s.status).toBe('countdown');
        s = raceReducer(s, { type: 'race/tick', tick: 200, phase: 'running' });
        expect(s.status).toBe('running');
        expect(raceReducer(s, { type: 'race/tick', tick: 150, phase: 'running' })).toBe(s);
        s = raceReducer(s, { type: 'race/end', msg: { results: [{ position: 1 }] } });
        expect(s.status).toBe('finished');
        s = raceReducer(s, { type: 'race/lobby', msg: { race_id: 'r1', state: 'running', players: [] } });
        expect(s.status).toBe('finished');
        for (let i = 0; i < NOTICES_MAX + 5; i++)
            s = raceReducer(s, { type: 'race/notice', msg: { race_id: 'r1', text: `n${i}` } });
        expect(s.notices).toHaveLength(NOTICES_MAX);
        expect(s.notices.at(-1)).toBe(`n${NOTICES_MAX + 4}`);
        expect(raceReducer(s, { type: 'race/notice', msg: { race_id: 'r2', text: 'x' } })).toBe(s);
        s = raceReducer(s, { type: 'race/leave' });
        expect(s.raceId).toBeNull();
    });
});

describe('editorReducer', () => {
    it('keeps problems after a rejected save and clears them on a good one', () => {
        let s = editorReducer(initialEditor, { type: 'editor/template', name: 'minimal', code: 'x' });
        expect(s.dirty).toBe(true);
        s = editorReducer(s, { type: 'editor/saving' });
        s = editorReducer(s, { type: 'editor/rejected', problems: [{ line: 3, message: 'bad' }], message: 'rejected' });
        expect(s.problems).toHaveLength(1);
        expect(s.saving).toBe(false);
        s = editorReducer(s, { type: 'editor/saved', bot: { id: 4, version: 2 } });
        expect(s).toMatchObject({ problems: [], dirty: false, botId: 4, version: 2 });
    });
});

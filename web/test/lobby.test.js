// The lobby reads exactly what GET /api/races sends: the example in
// docs/API.md ("Live rooms") is parsed here, so the page, the docs and the
// server (tests/server/test_rooms.py checks the same fields) agree.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canJoin, closesIn, liveRooms, occupancy, seatedNames } from '../src/components/lobby/LobbyPage.jsx';
import { createApi } from '../src/services/api.js';

const doc = readFileSync(new URL('../../docs/API.md', import.meta.url), 'utf8');
const section = doc.split('**Live rooms')[1];
const example = JSON.parse(section.split('```json\n')[1].split('```')[0]);

describe('lobby rooms from GET /api/races', () => {
    it('the documented example has every live field', () => {
        for (const k of ['state', 'players', 'spectators', 'free_seats', 'expires_at', 'max_cars'])
            expect(example).toHaveProperty(k);
        expect(Object.keys(example.players[0]).sort()).toEqual(['car_type', 'connected', 'kind', 'ready', 'user']);
    });
    it('lists live rooms only, open ones first, each once', () => {
        const running = { ...example, id: 'r1', status: 'running', state: 'running', free_seats: 0 };
        const countdown = { ...example, id: 'c1', status: 'open', state: 'countdown' };
        const stale = { ...example, id: 's1', state: null, players: null, spectators: null };
        const ended = { ...example, id: 'f1', status: 'finished', state: 'finished' };
        const open = [{ races: [countdown, example, stale] }, { races: [running, ended, example] }];
        expect(liveRooms(open).map((r) => r.id)).toEqual([example.id, 'c1', 'r1']);
        expect(liveRooms([null, { races: [] }])).toEqual([]);
    });
    it('says who is in, who watches and what is free', () => {
        expect(occupancy(example)).toBe('1/4 cars · 2 watching · 3 free');
        expect(occupancy({ ...example, state: 'running' })).toBe('1/4 cars · 2 watching');
        const players = [
            ...example.players,
            { user: { id: 2, username: 'bob' }, car_type: 'hatch', kind: 'bot', ready: true, connected: false },
        ];
        expect(seatedNames({ ...example, players })).toBe('ada, bob (bot) (away)');
    });
    it('may be joined only while open with a free seat', () => {
        expect(canJoin(example)).toBe(true);
        expect(canJoin({ ...example, free_seats: 0 })).toBe(false);
        expect(canJoin({ ...example, state: 'countdown' })).toBe(false);
    });
    it('counts down an empty room closing', () => {
        expect(closesIn(example, 0)).toBeNull();
        expect(closesIn({ ...example, expires_at: 1000 }, 700.4)).toBe(300);
        expect(closesIn({ ...example, expires_at: 1000 }, 1200)).toBe(0);
    });
    it('draws the room stage with its parameters', () => {
        const api = createApi({ base: 'http://h' });
        expect(api.stageSvgUrl('forest', 7, { length: 1800 })).toBe(
            'http://h/api/stages/forest.svg?seed=7&length=1800',
        );
        expect(api.stageSvgUrl('forest', 7)).toBe('http://h/api/stages/forest.svg?seed=7');
    });
});

import { describe, expect, it } from 'vitest';
import { ACTIONS, decode, encode, ProtocolError } from '../src/services/protocol.js';

describe('encode', () => {
    it('builds the seed messages with every action present', () => {
        const m = JSON.parse(encode('input', { actions: { accelerate: true }, tick: 120 }));
        expect(m.type).toBe('input');
        expect(m.tick).toBe(120);
        expect(Object.keys(m.actions).sort()).toEqual([...ACTIONS].sort());
        expect(m.actions.accelerate).toBe(true);
        expect(m.actions.brake).toBe(false);
        expect(JSON.parse(encode('join_race', { race_id: 'abc123', car_id: 1, bot_id: null }))).toEqual({
            type: 'join_race',
            race_id: 'abc123',
            car_id: 1,
            bot_id: null,
        });
        expect(JSON.parse(encode('ready'))).toEqual({ type: 'ready' });
        expect(JSON.parse(encode('spectate', { race_id: 'r1' }))).toEqual({ type: 'spectate', race_id: 'r1' });
    });

    it.each([
        ['input', { actions: { fly: true } }, /unknown action/],
        ['input', { actions: { accelerate: 1 } }, /true or false/],
        ['input', { actions: {}, tick: -1 }, /tick/],
        ['join_race', { race_id: 5, car_id: 1 }, /race_id/],
        ['join_race', { race_id: 'a', car_id: 1.5 }, /car_id/],
        ['join_race', { race_id: 'a', car_id: 1, bot_id: 'x' }, /bot_id/],
        ['spectate', {}, /race_id/],
        ['teleport', { x: 1 }, /unknown client message/],
        ['auth', { token: '' }, /token/],
    ])('refuses %s %j', (type, fields, re) => {
        expect(() => encode(type, fields)).toThrow(ProtocolError);
        expect(() => encode(type, fields)).toThrow(re);
    });

    it('refuses messages over the 4 KiB limit', () => {
        expect(() => encode('spectate', { race_id: 'x'.repeat(5000) })).toThrow(/4096/);
    });
});

describe('decode', () => {
    it('parses game_state and fills defaults', () => {
        const m = decode(
            JSON.stringify({
                type: 'game_state',
                tick: 9,
                cars: [{ id: 3, x: 1, y: 2, heading: 0.5 }],
                race_info: { phase: 'running' },
            }),
        );
        expect(m.cars[0]).toMatchObject({ id: 3, x: 1, y: 2, heading: 0.5, vx: 0, vy: 0, flags: 0 });
        expect(m.race_info.phase).toBe('running');
        expect(m.cars[0]).toMatchObject({ angular_velocity: 0, nitro_ticks: 0, input_tick: null });
        expect(m.cars[0]).toMatchObject({ time: null, penalty: 0 });
    });

    it("parses each car's full state and input ack", () => {
        const m = decode(
            JSON.stringify({
                type: 'game_state',
                tick: 300,
                cars: [
                    {
                        id: 0,
                        x: 1.5,
                        y: -2,
                        heading: 3.1,
                        vx: 4,
                        vy: 0.25,
                        angular_velocity: -1.25,
                        flags: 65,
                        nitro: 1,
                        nitro_ticks: 42,
                        input_tick: 297,
                        time: 61.25,
                        penalty: 1.5,
                    },
                    { id: 1, x: 0, y: 0, heading: 0, angular_velocity: 0.5, input_tick: null, time: null, penalty: 0 },
                ],
            }),
        );
        expect(m.cars[0]).toMatchObject({ angular_velocity: -1.25, nitro_ticks: 42, input_tick: 297, flags: 65 });
        expect(m.cars[1]).toMatchObject({ angular_velocity: 0.5, input_tick: null });
        // The times: a finisher's stage time and penalties; null before the finish.
        expect(m.cars[0]).toMatchObject({ time: 61.25, penalty: 1.5 });
        expect(m.cars[1]).toMatchObject({ time: null, penalty: 0 });
    });

    it('checks hello protocol version, lobby state and the rest', () => {
        expect(decode('{"type":"hello","protocol":1,"user":null}').protocol).toBe(1);
        expect(() => decode('{"type":"hello","protocol":2}')).toThrow(/protocol 2/);
        expect(decode('{"type":"lobby","race_id":"r","state":"open","players":[]}').state).toBe('open');
        expect(() => decode('{"type":"lobby","race_id":"r","state":"weird","players":[]}')).toThrow(/weird/);
        expect(decode('{"type":"race_end","results":[]}').results).toEqual([]);
        expect(decode('{"type":"error","message":"no"}').message).toBe('no');
        expect(decode('{"type":"auth","user":{"id":1,"username":"ada"}}').user.id).toBe(1);
        expect(() => decode('{"type":"auth"}')).toThrow(/user/);
        expect(decode('{"type":"lobby_message","race_id":"r","text":"hi"}').text).toBe('hi');
        const g = {
            centre: [
                [0, 0],
                [1, 0],
            ],
        };
        const rs = { type: 'race_start', countdown: 3, stage: { generator: 'forest', seed: 1, geometry: g } };
        expect(decode(JSON.stringify(rs)).stage.geometry).toEqual(g);
    });

    it.each([
        ['not json', /not JSON/],
        ['[1,2]', /no type/],
        ['{"type":"nope"}', /unknown server message/],
        ['{"type":"game_state","tick":-1,"cars":[]}', /tick/],
        ['{"type":"game_state","tick":1,"cars":[{"x":"1","y":0,"heading":0}]}', /x must be a number/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"flags":1.5}]}', /flags must be an integer/],
        [
            '{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"angular_velocity":"1"}]}',
            /angular_velocity/,
        ],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"input_tick":-3}]}', /input_tick/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"input_tick":2.5}]}', /input_tick/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"nitro_ticks":-1}]}', /nitro_ticks/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"nitro":0.5}]}', /nitro/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"time":"61"}]}', /time must be/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"penalty":-1}]}', /penalty/],
        ['{"type":"game_state","tick":1,"cars":[{"x":1,"y":0,"heading":0,"penalty":null}]}', /penalty/],
        ['{"type":"race_start"}', /countdown/],
        ['{"type":"race_start","countdown":3,"stage":{"geometry":{"centre":[[0,0]]}}}', /geometry/],
        ['{"type":"lobby_message","race_id":"r"}', /text/],
        ['{"type":"lobby_message","text":"hi"}', /race_id/],
        // The geometry comes in race_start only (the race waits for it).
        ['{"type":"stage","centre":[[0,0]]}', /unknown server message/],
    ])('rejects %s', (text, re) => {
        expect(() => decode(text)).toThrow(re);
    });
});

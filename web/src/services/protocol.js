// protocol.js - the WebSocket protocol of docs/API.md (subprotocol
// coderally.v1) as a codec: every message the client sends is built and
// checked here, every message the server sends is parsed and checked here,
// so the rest of the client only sees well-formed objects.

export const SUBPROTOCOL = 'coderally.v1';
export const PROTOCOL_VERSION = 1;
export const MAX_MESSAGE_BYTES = 4096;
export const ACTIONS = ['accelerate', 'brake', 'turn_left', 'turn_right', 'nitro', 'handbrake'];

export class ProtocolError extends Error {}

const isInt = (v) => Number.isInteger(v);
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const isStr = (v) => typeof v === 'string';
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function fail(what) {
    throw new ProtocolError(what);
}

/** A full action set: every action present, booleans only. */
export function normaliseActions(a = {}) {
    if (!isObj(a)) fail('actions must be an object');
    const out = {};
    for (const k of Object.keys(a)) if (!ACTIONS.includes(k)) fail(`unknown action '${k}'`);
    for (const k of ACTIONS) {
        const v = a[k] ?? false;
        if (typeof v !== 'boolean') fail(`action ${k} must be true or false`);
        out[k] = v;
    }
    return out;
}

const CLIENT = {
    auth: (m) => {
        if (!isStr(m.token) || !m.token) fail('auth needs a token');
        return { token: m.token };
    },
    join_race: (m) => {
        if (!isStr(m.race_id) || !m.race_id) fail('join_race needs race_id (string)');
        if (!isInt(m.car_id) || m.car_id < 1) fail('join_race needs car_id (integer)');
        if (m.bot_id !== null && m.bot_id !== undefined && (!isInt(m.bot_id) || m.bot_id < 1))
            fail('bot_id must be an integer or null');
        return { race_id: m.race_id, car_id: m.car_id, bot_id: m.bot_id ?? null };
    },
    ready: () => ({}),
    leave: () => ({}),
    spectate: (m) => {
        if (!isStr(m.race_id) || !m.race_id) fail('spectate needs race_id (string)');
        return { race_id: m.race_id };
    },
    input: (m) => {
        const out = { actions: normaliseActions(m.actions) };
        if (m.tick !== undefined) {
            if (!isInt(m.tick) || m.tick < 0) fail('input tick must be a non-negative integer');
            out.tick = m.tick;
        }
        return out;
    },
};

/** Builds the JSON text of a client message; throws ProtocolError on bad fields. */
export function encode(type, fields = {}) {
    const check = CLIENT[type];
    if (!check) fail(`unknown client message type '${type}'`);
    const text = JSON.stringify({ type, ...check(fields) });
    if (new TextEncoder().encode(text).length > MAX_MESSAGE_BYTES)
        fail(`${type} message larger than ${MAX_MESSAGE_BYTES} bytes`);
    return text;
}

function car(c, i) {
    if (!isObj(c)) fail(`game_state car ${i} is not an object`);
    for (const k of ['x', 'y', 'heading']) if (!isNum(c[k])) fail(`game_state car ${i}: ${k} must be a number`);
    for (const k of ['vx', 'vy', 'angular_velocity'])
        if (c[k] !== undefined && !isNum(c[k])) fail(`game_state car ${i}: ${k} must be a number`);
    // The car's stage time once it has finished (null before), and its penalties so far.
    if (c.time !== undefined && c.time !== null && !isNum(c.time))
        fail(`game_state car ${i}: time must be a number or null`);
    if (c.penalty !== undefined && !(isNum(c.penalty) && c.penalty >= 0))
        fail(`game_state car ${i}: penalty must be a number >= 0`);
    for (const k of ['flags', 'checkpoints', 'position'])
        if (c[k] !== undefined && !isInt(c[k])) fail(`game_state car ${i}: ${k} must be an integer`);
    for (const k of ['nitro', 'nitro_ticks'])
        if (c[k] !== undefined && !(isInt(c[k]) && c[k] >= 0))
            fail(`game_state car ${i}: ${k} must be a whole number >= 0`);
    // The ack of our inputs: the tick of the last one applied, or null.
    if (c.input_tick !== undefined && c.input_tick !== null && !(isInt(c.input_tick) && c.input_tick >= 0))
        fail(`game_state car ${i}: input_tick must be a whole number >= 0 or null`);
    return {
        vx: 0,
        vy: 0,
        angular_velocity: 0,
        flags: 0,
        checkpoints: 0,
        position: i + 1,
        nitro_ticks: 0,
        time: null,
        penalty: 0,
        input_tick: null,
        ...c,
        id: c.id ?? i,
    };
}

const SERVER = {
    auth: (m) => {
        if (!isObj(m.user)) fail('auth answer needs user');
        return m;
    },
    hello: (m) => {
        if (m.protocol !== PROTOCOL_VERSION)
            fail(`server speaks protocol ${m.protocol}, this client ${PROTOCOL_VERSION}`);
        return m;
    },
    lobby: (m) => {
        if (!isStr(m.race_id)) fail('lobby needs race_id');
        if (!['open', 'countdown', 'running', 'finished'].includes(m.state)) fail(`lobby state '${m.state}' unknown`);
        if (!Array.isArray(m.players)) fail('lobby needs players');
        return m;
    },
    // A message from the room's lobby.lua to everyone in the room.
    lobby_message: (m) => {
        if (!isStr(m.race_id)) fail('lobby_message needs race_id');
        if (!isStr(m.text)) fail('lobby_message needs text');
        return m;
    },
    race_start: (m) => {
        if (!isNum(m.countdown)) fail('race_start needs countdown');
        const g = isObj(m.stage) ? m.stage.geometry : undefined;
        if (g !== undefined && g !== null && (!isObj(g) || !Array.isArray(g.centre) || g.centre.length < 2))
            fail('race_start stage geometry needs centre points');
        return m;
    },
    game_state: (m) => {
        if (!isInt(m.tick) || m.tick < 0) fail('game_state needs tick');
        if (!Array.isArray(m.cars)) fail('game_state needs cars');
        return { ...m, cars: m.cars.map(car), race_info: isObj(m.race_info) ? m.race_info : {} };
    },
    race_end: (m) => {
        if (!Array.isArray(m.results)) fail('race_end needs results');
        return m;
    },
    error: (m) => {
        if (!isStr(m.message)) fail('error needs message');
        return m;
    },
    // A bot's own output, sent only to its owner (docs/API.md).
    bot_log: (m) => {
        if (!isInt(m.car) || m.car < 0) fail('bot_log needs car');
        if (!Array.isArray(m.lines) || !m.lines.every(isStr)) fail('bot_log lines must be strings');
        if (m.dropped !== undefined && (!isInt(m.dropped) || m.dropped < 0)) fail('bot_log dropped must be a count');
        return { ...m, dropped: m.dropped ?? 0 };
    },
    bot_error: (m) => {
        if (!isInt(m.car) || m.car < 0) fail('bot_error needs car');
        if (!isInt(m.index) || m.index < -1) fail('bot_error needs index');
        if (m.tick !== null && (!isInt(m.tick) || m.tick < 0)) fail('bot_error tick must be an integer or null');
        if (m.line !== null && (!isInt(m.line) || m.line < 1))
            fail('bot_error line must be a positive integer or null');
        if (!isStr(m.cause) || !isStr(m.message)) fail('bot_error needs cause and message');
        if (!isInt(m.count) || m.count < 1) fail('bot_error needs count');
        return m;
    },
    bot_draw: (m) => {
        if (!isInt(m.car) || m.car < 0) fail('bot_draw needs car');
        if (!isInt(m.tick) || m.tick < 0) fail('bot_draw needs tick');
        if (!Array.isArray(m.drawings)) fail('bot_draw needs drawings');
        const drawings = m.drawings.map((d, i) => {
            if (!isObj(d) || !['line', 'circle', 'text'].includes(d.kind)) fail(`bot_draw drawing ${i}: bad kind`);
            for (const k of ['a', 'b', 'c', 'd'])
                if (!isNum(d[k])) fail(`bot_draw drawing ${i}: ${k} must be a number`);
            if (!isInt(d.rgb) || d.rgb < 0 || d.rgb > 0xffffff) fail(`bot_draw drawing ${i}: bad rgb`);
            return { ...d, text: isStr(d.text) ? d.text : '' };
        });
        return { ...m, drawings, dropped: m.dropped ?? 0 };
    },
};

/** Parses a server message; throws ProtocolError if it is not one. */
export function decode(text) {
    if (typeof text !== 'string') fail('binary frames are not part of the protocol');
    if (text.length > 1 << 20) fail('message too large');
    let m;
    try {
        m = JSON.parse(text);
    } catch {
        fail('message is not JSON');
    }
    if (!isObj(m) || !isStr(m.type)) fail('message has no type');
    const check = SERVER[m.type];
    if (!check) fail(`unknown server message type '${m.type}'`);
    return check(m);
}

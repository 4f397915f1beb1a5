// WsManager against a real WebSocket server (the `ws` package on loopback):
// subprotocol, hello, validation, reconnect with back-off, resubscribe.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { WsManager } from '../src/services/websocket.js';

let servers = [];
afterEach(async () => {
    await Promise.all(
        servers.map(
            (s) =>
                new Promise((r) => {
                    for (const c of s.clients) c.terminate();
                    s.close(() => r());
                }),
        ),
    );
    servers = [];
});

function server(port = 0, hello = () => ({ type: 'hello', protocol: 1, user: null })) {
    return new Promise((resolve) => {
        const s = new WebSocketServer({
            port,
            host: '127.0.0.1',
            handleProtocols: (p) => (p.has('coderally.v1') ? 'coderally.v1' : false),
        });
        s.received = [];
        s.on('connection', (ws) => {
            ws.send(JSON.stringify(hello(s)));
            ws.on('message', (d) => s.received.push(JSON.parse(String(d))));
        });
        s.on('listening', () => resolve(s));
        servers.push(s);
    });
}

const until = async (cond, ms = 3000) => {
    const t0 = Date.now();
    while (!cond()) {
        if (Date.now() - t0 > ms) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 5));
    }
};

describe('WsManager', () => {
    it('speaks coderally.v1, validates what it sends and hands on what it receives', async () => {
        const s = await server();
        const m = new WsManager({ url: `ws://127.0.0.1:${s.address().port}/ws`, WebSocketImpl: WebSocket });
        const got = [];
        const bad = [];
        m.on('game_state', (msg) => got.push(msg));
        m.on('protocol_error', (e) => bad.push(e.message));
        m.open();
        await until(() => m.status === 'open');
        expect(() => m.send('input', { actions: { jump: true } })).toThrow(/unknown action/);
        expect(m.send('input', { actions: { accelerate: true }, tick: 3 })).toBe(true);
        await until(() => s.received.length === 1);
        expect(s.received[0].actions.accelerate).toBe(true);
        for (const c of s.clients) {
            c.send(JSON.stringify({ type: 'game_state', tick: 5, cars: [{ id: 0, x: 1, y: 2, heading: 0 }] }));
            c.send('{"type":"game_state","tick":"x","cars":[]}');
        }
        await until(() => got.length === 1 && bad.length === 1);
        expect(got[0].tick).toBe(5);
        expect(bad[0]).toMatch(/tick/);
        m.close();
    });

    it('reconnects with growing delays and re-sends its subscription', async () => {
        const s = await server();
        const port = s.address().port;
        const m = new WsManager({
            url: `ws://127.0.0.1:${port}/ws`,
            WebSocketImpl: WebSocket,
            minDelayMs: 20,
            maxDelayMs: 200,
            random: () => 0.5,
        });
        const statuses = [];
        m.on('status', (e) => statuses.push(e.status));
        m.open();
        await until(() => m.status === 'open');
        m.send('spectate', { race_id: 'r7' });
        await until(() => s.received.length === 1);
        for (const c of s.clients) c.terminate(); // the server drops us
        await until(() => s.received.length === 2);
        expect(s.received[1]).toEqual({ type: 'spectate', race_id: 'r7' });
        expect(statuses).toContain('reconnecting');
        // Back-off doubles and is capped.
        expect([1, 2, 3, 4, 5].map((n) => m.delayFor(n))).toEqual([20, 40, 80, 160, 200]);
        m.send('leave');
        for (const c of s.clients) c.terminate();
        await until(() => m.status === 'open' && s.clients.size === 1);
        await new Promise((r) => setTimeout(r, 50));
        expect(s.received.filter((x) => x.type === 'spectate')).toHaveLength(2); // no resubscribe after leave
        m.close();
    });

    it('does not join again when hello says the server gave the seat back', async () => {
        // The real server re-attaches a dropped player and names the room in
        // hello; a spectator or a seat in another room is asked for again.
        const s = await server(0, (srv) => ({
            type: 'hello',
            protocol: 1,
            user: { id: 1, username: 'ada' },
            room: srv.received.length ? { race_id: 'r1', state: 'running' } : null,
        }));
        const m = new WsManager({
            url: `ws://127.0.0.1:${s.address().port}/ws`,
            WebSocketImpl: WebSocket,
            minDelayMs: 10,
            maxDelayMs: 20,
        });
        m.open();
        await until(() => m.status === 'open');
        m.send('join_race', { race_id: 'r1', car_id: 3, bot_id: null });
        await until(() => s.received.length === 1);
        for (const c of s.clients) c.terminate();
        await until(() => m.status !== 'open');
        await until(() => m.status === 'open' && s.clients.size === 1);
        await new Promise((r) => setTimeout(r, 50));
        expect(s.received.filter((x) => x.type === 'join_race')).toHaveLength(1);
        m.send('join_race', { race_id: 'r2', car_id: 3, bot_id: null });
        await until(() => s.received.length === 2);
        for (const c of s.clients) c.terminate();
        await until(() => s.received.length === 3);
        expect(s.received[2]).toEqual({ type: 'join_race', race_id: 'r2', car_id: 3, bot_id: null });
        m.close();
    });

    it('keeps trying while the server is down and connects when it comes back', async () => {
        const s = await server();
        const port = s.address().port;
        await new Promise((r) => {
            s.close(() => r());
        });
        servers = [];
        const m = new WsManager({
            url: `ws://127.0.0.1:${port}/ws`,
            WebSocketImpl: WebSocket,
            minDelayMs: 10,
            maxDelayMs: 40,
            random: () => 0.5,
        });
        m.open();
        await until(() => m.attempt >= 3);
        await server(port);
        await until(() => m.status === 'open');
        expect(m.attempt).toBe(0);
        m.close();
        expect(m.status).toBe('closed');
    });
});

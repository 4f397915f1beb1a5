// websocket.js - one WebSocket to /ws that survives drops: reconnects with
// exponential back-off and jitter, and on each new connection re-sends what
// the client was subscribed to (the room it joined or spectates), so a page
// never has to know the socket went away. Messages go through protocol.js.

import { SUBPROTOCOL, decode, encode, ProtocolError } from './protocol.js';

export function wsUrl(loc = globalThis.location) {
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${loc.host}/ws`;
}

export class WsManager {
    /**
     * opts: url, WebSocketImpl (default the browser's), minDelayMs, maxDelayMs,
     * random (for jitter; 0..1), setTimeout/clearTimeout (default the globals).
     */
    constructor(opts = {}) {
        this.url = opts.url ?? wsUrl();
        this.WS = opts.WebSocketImpl ?? globalThis.WebSocket;
        this.minDelay = opts.minDelayMs ?? 250;
        this.maxDelay = opts.maxDelayMs ?? 8000;
        this.random = opts.random ?? Math.random;
        this.setTimer = opts.setTimeout ?? ((f, ms) => setTimeout(f, ms));
        this.clearTimer = opts.clearTimeout ?? ((t) => clearTimeout(t));
        this.token = opts.token ?? null; // only for non-browser clients; never stored
        this.listeners = new Map();
        this.subscription = null; // { type: 'join_race' | 'spectate', fields }
        this.attempt = 0;
        this.ws = null;
        this.timer = null;
        this.closed = true;
        this.status = 'closed';
    }

    on(type, fn) {
        if (!this.listeners.has(type)) this.listeners.set(type, new Set());
        this.listeners.get(type).add(fn);
        return () => this.listeners.get(type).delete(fn);
    }

    emit(type, msg) {
        for (const fn of this.listeners.get(type) ?? []) fn(msg);
        for (const fn of this.listeners.get('*') ?? []) fn(msg);
    }

    setStatus(s) {
        this.status = s;
        this.emit('status', { type: 'status', status: s, attempt: this.attempt });
    }

    /** Delay before reconnect attempt n (1-based): doubling, capped, +-25 % jitter. */
    delayFor(n) {
        const base = Math.min(this.maxDelay, this.minDelay * 2 ** (n - 1));
        return Math.round(base * (0.75 + 0.5 * this.random()));
    }

    open() {
        this.closed = false;
        this.connect();
    }

    connect() {
        if (this.closed) return;
        this.setStatus(this.attempt ? 'reconnecting' : 'connecting');
        let ws;
        try {
            ws = new this.WS(this.url, SUBPROTOCOL);
        } catch {
            this.scheduleReconnect(); // a bad URL or a refused scheme: retry like a drop
            return;
        }
        this.ws = ws;
        ws.onopen = () => {
            if (this.token) ws.send(encode('auth', { token: this.token }));
        };
        ws.onmessage = (ev) => {
            let msg;
            try {
                msg = decode(typeof ev.data === 'string' ? ev.data : String(ev.data));
            } catch (e) {
                this.emit('protocol_error', { type: 'protocol_error', message: e.message });
                return;
            }
            if (msg.type === 'hello') {
                this.attempt = 0;
                this.setStatus('open');
                // The server gives a dropped player's seat back by itself and
                // says so in hello; asking again would only repeat its answers.
                const sub = this.subscription;
                const back = sub && sub.type === 'join_race' && msg.room && msg.room.race_id === sub.fields.race_id;
                if (sub && !back) this.sendRaw(encode(sub.type, sub.fields));
            }
            this.emit(msg.type, msg);
        };
        ws.onclose = (ev) => {
            if (this.ws !== ws) return;
            this.ws = null;
            this.emit('close', { type: 'close', code: ev.code, reason: ev.reason });
            this.scheduleReconnect();
        };
        ws.onerror = () => {};
    }

    scheduleReconnect() {
        if (this.closed) return;
        this.attempt += 1;
        const ms = this.delayFor(this.attempt);
        this.setStatus('reconnecting');
        this.timer = this.setTimer(() => {
            this.timer = null;
            this.connect();
        }, ms);
    }

    sendRaw(text) {
        if (this.ws && this.ws.readyState === 1) {
            this.ws.send(text);
            return true;
        }
        return false;
    }

    /** Sends a client message (validated); false if the socket is not open. */
    send(type, fields) {
        const text = encode(type, fields);
        if (type === 'join_race' || type === 'spectate') this.subscription = { type, fields };
        if (type === 'leave') this.subscription = null;
        return this.sendRaw(text);
    }

    close() {
        this.closed = true;
        if (this.timer) this.clearTimer(this.timer);
        this.timer = null;
        const ws = this.ws;
        this.ws = null;
        if (ws) ws.close(1000, 'bye');
        this.setStatus('closed');
    }
}

export { ProtocolError };

// api.js - the REST client for docs/API.md. The session lives in the server's
// HttpOnly cookie (credentials: 'same-origin'); this module never stores a
// token anywhere. Errors come back as ApiError with the server's code, the
// field a bad_field message names, and a bot's problems with their lines.

export class ApiError extends Error {
    constructor(status, code, message, extra = {}) {
        super(message);
        this.status = status;
        this.code = code;
        this.field = extra.field ?? null;
        this.problems = extra.problems ?? [];
        this.retryAfter = extra.retryAfter ?? null;
    }
}

/** The field a bad_field message is about: the first known field it names. */
export function fieldOf(message, fields) {
    if (!message || !fields) return null;
    const lower = message.toLowerCase();
    let best = null;
    let at = Infinity;
    for (const f of fields) {
        const i = lower.indexOf(f.toLowerCase());
        if (i >= 0 && i < at) {
            best = f;
            at = i;
        }
    }
    return best;
}

export function createApi({ base = '', fetchImpl = (...a) => globalThis.fetch(...a) } = {}) {
    async function request(method, path, body, fields, raw = false) {
        const init = { method, credentials: 'same-origin', headers: {} };
        if (body !== undefined) {
            init.headers['Content-Type'] = 'application/json';
            init.body = JSON.stringify(body);
        }
        let res;
        try {
            res = await fetchImpl(base + path, init);
        } catch (e) {
            throw new ApiError(0, 'network', `cannot reach the server: ${e.message}`);
        }
        if (res.status === 204) return null;
        const ct = res.headers.get('content-type') || '';
        if (raw && res.ok) return res;
        if (!ct.includes('json')) {
            // Not the API (an old server, a proxy's page): never hand it on as data.
            throw new ApiError(
                res.status,
                res.ok ? 'bad_response' : 'http',
                `${res.status} ${res.statusText}: not a JSON answer from ${path}`,
            );
        }
        const data = await res.json();
        if (!res.ok) {
            const e = data && data.error ? data.error : {};
            throw new ApiError(res.status, e.code || 'http', e.message || `${res.status}`, {
                field: fieldOf(e.message, fields),
                problems: Array.isArray(e.problems) ? e.problems : [],
                retryAfter: res.headers.get('retry-after'),
            });
        }
        return data;
    }
    const q = (params) => {
        const s = new URLSearchParams();
        for (const [k, v] of Object.entries(params || {}))
            if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
        const t = s.toString();
        return t ? `?${t}` : '';
    };
    const enc = encodeURIComponent;
    return {
        request,
        health: () => request('GET', '/api/health'),
        register: (username, password) =>
            request('POST', '/api/auth/register', { username, password }, ['username', 'password']),
        login: (username, password) =>
            request('POST', '/api/auth/login', { username, password }, ['username', 'password']),
        logout: () => request('POST', '/api/auth/logout'),
        me: () => request('GET', '/api/me'),
        garage: () => request('GET', '/api/garage'),
        unlock: (carType) => request('POST', '/api/garage/unlock', { car_type: carType }, ['car_type']),
        upgrade: (carId, stat) => request('POST', `/api/garage/cars/${enc(carId)}/upgrade`, { stat }, ['stat']),
        bots: () => request('GET', '/api/bots'),
        bot: (id) => request('GET', `/api/bots/${enc(id)}`),
        createBot: (name, code) => request('POST', '/api/bots', { name, code }, ['name', 'code']),
        saveBot: (id, code, name) =>
            request('PUT', `/api/bots/${enc(id)}`, name ? { code, name } : { code }, ['name', 'code']),
        deleteBot: (id) => request('DELETE', `/api/bots/${enc(id)}`),
        botVersions: (id) => request('GET', `/api/bots/${enc(id)}/versions`),
        botVersion: (id, n) => request('GET', `/api/bots/${enc(id)}/versions/${enc(n)}`),
        templates: () => request('GET', '/api/bots/templates'),
        testRun: (id, body) => request('POST', `/api/bots/${enc(id)}/test_run`, body, ['generator', 'seed', 'ai']),
        generators: () => request('GET', '/api/stages/generators'),
        stage: (generator, seed, params) =>
            request('GET', `/api/stages/${enc(generator)}${q({ seed, ...params })}`, undefined, ['seed']),
        /** A rule set's numbers; with a stage, the stage-dependent ones too. */
        rules: (name, generator, seed, params) =>
            request('GET', `/api/rules/${enc(name)}${q({ generator, seed, ...params })}`),
        stageSvgUrl: (generator, seed, params) => `${base}/api/stages/${enc(generator)}.svg${q({ seed, ...params })}`,
        players: (limit) => request('GET', `/api/leaderboard/players${q({ limit })}`),
        botRatings: (limit) => request('GET', `/api/leaderboard/bots${q({ limit })}`),
        races: (status) => request('GET', `/api/races${q({ status })}`),
        createRace: (body) =>
            request('POST', '/api/races', body, ['generator', 'seed', 'params', 'rules', 'max_cars', 'ai_fill']),
        race: (id) => request('GET', `/api/races/${enc(id)}`),
        results: (id) => request('GET', `/api/races/${enc(id)}/results`),
        replayBytes: async (id) => {
            const res = await request('GET', `/api/races/${enc(id)}/replay`, undefined, undefined, true);
            return new Uint8Array(await res.arrayBuffer());
        },
        /** The file `coderally replay view FILE` serves. */
        localReplayBytes: async () => {
            const res = await request('GET', '/api/replays/local', undefined, undefined, true);
            return new Uint8Array(await res.arrayBuffer());
        },
    };
}

export const api = createApi();

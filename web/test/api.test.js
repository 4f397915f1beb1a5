// The REST client against a real HTTP server on loopback answering as
// docs/API.md says: JSON bodies, error objects, cookie-only sessions.
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createApi, fieldOf } from '../src/services/api.js';

let srv;
let base;
const seen = [];
beforeAll(async () => {
    srv = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => {
            body += d;
        });
        req.on('end', () => {
            seen.push({ method: req.method, url: req.url, body, ct: req.headers['content-type'] });
            const json = (status, obj, headers = {}) => {
                res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
                res.end(JSON.stringify(obj));
            };
            if (req.url === '/api/auth/register') {
                const b = JSON.parse(body);
                if (b.username === 'taken')
                    return json(409, { error: { code: 'username_taken', message: 'username is taken' } });
                if (b.password.length < 8)
                    return json(400, { error: { code: 'bad_field', message: 'password must be 8-128 bytes' } });
                return json(
                    201,
                    { user: { id: 1, username: b.username, points: 1000 }, token: 't', expires_at: 1 },
                    { 'Set-Cookie': 'cr_session=t; HttpOnly' },
                );
            }
            if (req.url === '/api/auth/logout') {
                res.writeHead(204);
                return res.end();
            }
            if (req.url === '/api/bots' && req.method === 'POST')
                return json(422, {
                    error: { code: 'bot_rejected', message: 'rejected', problems: [{ line: 3, message: 'bad name' }] },
                });
            if (req.url.startsWith('/api/stages/mountain?'))
                return json(200, { seed: Number(new URL(req.url, 'http://x').searchParams.get('seed')) });
            if (req.url === '/api/login-limited')
                return json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '30' });
            if (req.url === '/api/garage') {
                res.writeHead(500, { 'Content-Type': 'text/plain' });
                return res.end('oops');
            }
            if (req.url === '/api/me') {
                res.writeHead(200, { 'Content-Type': 'text/html' });
                return res.end('<html>');
            }
            return json(404, { error: { code: 'not_found', message: 'no such route' } });
        });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${srv.address().port}`;
});
afterAll(() => new Promise((r) => srv.close(r)));

describe('api', () => {
    const api = () => createApi({ base });
    it('sends JSON and returns the body', async () => {
        const r = await api().register('ada', 'correct horse');
        expect(r.user.username).toBe('ada');
        expect(seen.at(-1)).toMatchObject({ method: 'POST', ct: 'application/json' });
        expect(JSON.parse(seen.at(-1).body)).toEqual({ username: 'ada', password: 'correct horse' });
        expect(await api().logout()).toBeNull();
    });
    it('turns error objects into ApiError with the field they name', async () => {
        await expect(api().register('ada', 'short')).rejects.toMatchObject({
            status: 400,
            code: 'bad_field',
            field: 'password',
        });
        await expect(api().register('taken', 'correct horse')).rejects.toMatchObject({
            status: 409,
            code: 'username_taken',
            field: 'username',
        });
        const e = await api()
            .createBot('b', 'x')
            .catch((x) => x);
        expect(e).toBeInstanceOf(ApiError);
        expect(e.problems).toEqual([{ line: 3, message: 'bad name' }]);
        await expect(api().request('GET', '/api/login-limited')).rejects.toMatchObject({
            status: 429,
            retryAfter: '30',
        });
        await expect(api().garage()).rejects.toMatchObject({ status: 500, code: 'http' });
        await expect(api().me()).rejects.toMatchObject({ status: 200, code: 'bad_response' });
    });
    it('builds query strings and reports an unreachable server', async () => {
        expect(await api().stage('mountain', 7)).toEqual({ seed: 7 });
        const dead = createApi({ base: 'http://127.0.0.1:1' });
        await expect(dead.me()).rejects.toMatchObject({ status: 0, code: 'network' });
    });
    it('never keeps a token: no storage is touched', () => {
        expect(String(createApi)).not.toMatch(/localStorage|sessionStorage/);
        expect(fieldOf('car_type is unknown', ['car_type', 'stat'])).toBe('car_type');
        expect(fieldOf('nothing', ['x'])).toBeNull();
    });
});

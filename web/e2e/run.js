#!/usr/bin/env node
// End-to-end run of the browser client in Debian's Chromium, driven by
// playwright-core (no browser download). Against a real `coderally serve` on a
// free port with a fresh database when the build has one; otherwise against
// web/dist on a plain static server, where only the offline parts (first
// load, forms, the practice race with the WASM engine, frame times) can run
// and the server steps are reported as pending, never as passed.
// Screenshots and figures go to web/e2e/artifacts/.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, '..');
const root = resolve(web, '..');
const dist = join(web, 'dist');
const artifacts = join(here, 'artifacts');
const buildDir = process.env.CR_BUILD_DIR || join(root, 'build/debug');
const CHROMIUM = process.env.CR_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
];

const results = { mode: null, steps: [], figures: {} };
const cleanups = [];
let failed = 0;

function log(...a) {
    console.log('[e2e]', ...a);
}

async function step(name, fn) {
    const t0 = Date.now();
    try {
        const r = await fn();
        if (r && r.pending) {
            results.steps.push({ name, status: 'pending', why: r.pending });
            log(`PENDING ${name}: ${r.pending}`);
        } else {
            results.steps.push({ name, status: 'ok', ms: Date.now() - t0 });
            log(`ok      ${name} (${Date.now() - t0} ms)`);
        }
    } catch (e) {
        failed += 1;
        results.steps.push({ name, status: 'FAILED', error: String((e && e.stack) || e) });
        log(`FAILED  ${name}: ${(e && e.stack) || e}`);
    }
}

function assert(cond, msg) {
    if (!cond) throw new Error(msg);
}

function freePort() {
    return new Promise((res) => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
            const p = s.address().port;
            s.close(() => res(p));
        });
    });
}

const TYPES = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
    '.ttf': 'font/ttf',
    '.wasm': 'application/wasm',
    '.svg': 'image/svg+xml',
};
async function staticServer() {
    const port = await freePort();
    const srv = createServer((req, res) => {
        const url = new URL(req.url, 'http://x');
        if (url.pathname.startsWith('/api/')) {
            res.writeHead(404, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ error: { code: 'not_found', message: 'no server in this run (static mode)' } }));
            return;
        }
        let p = join(dist, url.pathname === '/' ? 'index.html' : url.pathname);
        if (!p.startsWith(dist) || !existsSync(p) || statSync(p).isDirectory()) p = join(dist, 'index.html');
        res.writeHead(200, { 'Content-Type': TYPES[extname(p)] || 'application/octet-stream' });
        createReadStream(p).pipe(res);
    });
    await new Promise((r) => srv.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => srv.close(r)));
    return `http://127.0.0.1:${port}`;
}

async function realServer(bin) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'cr-e2e-db-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(
        bin,
        ['serve', '--port', String(port), '--host', '127.0.0.1', '--db', join(dir, 'e2e.db'), '--web', dist],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
        out += d;
    });
    child.stderr.on('data', (d) => {
        out += d;
    });
    cleanups.push(
        () =>
            new Promise((r) => {
                if (child.exitCode !== null) return r();
                child.once('exit', r);
                child.kill('SIGTERM');
                setTimeout(() => child.kill('SIGKILL'), 5000);
            }),
    );
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 150; i++) {
        if (child.exitCode !== null) throw new Error(`coderally serve exited ${child.exitCode}:\n${out}`);
        try {
            const r = await fetch(`${base}/api/health`);
            if (r.ok) return base;
        } catch {
            /* not up yet */
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`coderally serve did not answer /api/health in 15 s:\n${out}`);
}

async function browser() {
    const dir = mkdtempSync(join(tmpdir(), 'cr-e2e-profile-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ctx = await chromium.launchPersistentContext(dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: FLAGS,
        viewport: { width: 1280, height: 720 },
    });
    cleanups.unshift(() => ctx.close());
    const page = ctx.pages()[0] || (await ctx.newPage());
    page.on('pageerror', (e) => log('page error:', e.message));
    return { ctx, page };
}

/** canvasPixels until they show a stage (the first frames may come before it), at most 10 s. */
async function waitPixels(page, sel) {
    let px = null;
    for (let i = 0; i < 40; i++) {
        px = await canvasPixels(page, sel);
        if (px && px.colours >= 12 && px.road > 50) break;
        await page.waitForTimeout(250);
    }
    return px;
}

/** Real pixels on a canvas: distinct colours on a grid, road and car colours present. */
async function canvasPixels(page, sel) {
    return page.evaluate((s) => {
        const c = document.querySelector(s);
        if (!c) return null;
        const ctx = c.getContext('2d');
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set();
        let road = 0;
        let bright = 0;
        for (let y = 0; y < c.height; y += 2) {
            for (let x = 0; x < c.width; x += 2) {
                const i = (y * c.width + x) * 4;
                const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
                colours.add((r << 16) | (g << 8) | b);
                if (Math.abs(r - 0x4a) < 6 && Math.abs(g - 0x4d) < 6 && Math.abs(b - 0x55) < 6) road++;
                if (r > 150 && r > 1.8 * g && r > 1.8 * b) bright++; // car 0 red
            }
        }
        return { w: c.width, h: c.height, colours: colours.size, road, red: bright };
    }, sel);
}

async function shot(page, name) {
    const p = join(artifacts, `${String(results.steps.length + 1).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: p });
    const size = statSync(p).size;
    assert(size > 5000, `screenshot ${name} is only ${size} bytes`);
    return p;
}

async function offlineSteps(base, page) {
    await step('first load of the lobby', async () => {
        const t0 = Date.now();
        await page.goto(`${base}/#/lobby`, { waitUntil: 'load' });
        await page.getByRole('heading', { name: 'Lobby' }).waitFor();
        const nav = await page.evaluate(() => {
            const e = performance.getEntriesByType('navigation')[0];
            return { load: e.loadEventEnd, dcl: e.domContentLoadedEventEnd };
        });
        results.figures.first_load_ms = Math.round(nav.load);
        results.figures.first_load_wall_ms = Date.now() - t0;
        const js = await page.evaluate(
            () => performance.getEntriesByType('resource').filter((r) => r.name.includes('monaco')).length,
        );
        assert(js === 0, 'the lobby must not load Monaco');
        await shot(page, 'lobby');
    });

    await step('register form: errors next to their fields', async () => {
        await page.goto(`${base}/#/register`);
        await page.getByRole('button', { name: 'Register' }).click();
        await page.getByTestId('error-username').waitFor();
        await page.fill('#f-username', 'ok_name');
        await page.fill('#f-password', 'short');
        await page.getByRole('button', { name: 'Register' }).click();
        await page.getByTestId('error-password').waitFor();
        await shot(page, 'register-errors');
    });

    await step('practice race: 8 cars, debug overlay, real pixels', async () => {
        await page.goto(`${base}/#/demo?cars=8&debug=1&countdown=0`);
        await page.waitForFunction(() => window.__coderally?.lastFrame?.cars?.length === 8, null, { timeout: 15000 });
        await page.waitForTimeout(1500); // the camera eases from the whole stage to the car
        const px = await canvasPixels(page, '[data-testid="race-canvas"]');
        assert(px && px.colours >= 12, `canvas shows ${px && px.colours} colours: nothing drawn`);
        assert(px.road > 50, 'no road pixels on the canvas');
        assert(px.red > 3, 'no car pixels on the canvas');
        results.figures.demo_canvas = px;
        await shot(page, 'practice-race');
    });

    await step('keyboard: key press to own car moving on the canvas', async () => {
        await page.evaluate(() => {
            window.addEventListener(
                'keydown',
                () => {
                    window.__kd = window.__kd ?? performance.now();
                },
                { capture: true },
            );
            window.__kd = null;
        });
        await page.keyboard.down('ArrowUp');
        const ms = await page.evaluate(
            () =>
                new Promise((res, rej) => {
                    const t = setTimeout(() => rej(new Error('the car did not move within 2 s')), 2000);
                    (function poll() {
                        const f = window.__coderally.lastFrame;
                        const me = f.cars.find((c) => c.id === 0);
                        if (window.__kd !== null && f.t > window.__kd && Math.hypot(me.vx, me.vy) > 0.05) {
                            clearTimeout(t);
                            res(f.drawnAt - window.__kd);
                            return;
                        }
                        requestAnimationFrame(poll);
                    })();
                }),
        );
        results.figures.key_to_motion_ms = Math.round(ms * 10) / 10;
        await page.waitForTimeout(1500);
        await page.keyboard.up('ArrowUp');
        // A bound on function, not speed: the local engine moves the car within
        // a few frames. The figure is recorded (and in docs/BENCHMARKS.md); a
        // tight bound here failed a run on a machine busy with other suites.
        assert(ms < 1000, `key to motion took ${ms} ms`);
    });

    await step('frame times: 8 cars + debug overlay for 5 s', async () => {
        await page.evaluate(() => window.__coderally.frames.reset());
        await page.waitForTimeout(5000);
        const s = await page.evaluate(() => window.__coderally.frames.summary());
        results.figures.frames_8cars_debug = s;
        assert(s.frames > 100, `only ${s.frames} frames in 5 s`);
        await shot(page, 'practice-race-later');
    });
}

async function serverSteps(base, page, browser2) {
    const user = `e2e${Date.now() % 1e8}`;
    const api = async (path) =>
        page.evaluate(async (p) => {
            const r = await fetch(p);
            return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : null };
        }, path);
    await step('register a new user', async () => {
        await page.goto(`${base}/#/register`);
        await page.fill('#f-username', user);
        await page.fill('#f-password', 'correct horse battery');
        await page.getByRole('button', { name: 'Register' }).click();
        await page.getByTestId('nav-user').waitFor();
        assert((await page.getByTestId('nav-user').textContent()).includes(user), 'nav does not show the user');
        const cookies = await page.context().cookies();
        assert(
            cookies.some((c) => c.httpOnly),
            'the session cookie must be HttpOnly',
        );
        assert(await page.evaluate(() => localStorage.length === 0), 'nothing may be kept in localStorage');
        await shot(page, 'registered');
    });
    await step('upgrade a car in the garage', async () => {
        await page.goto(`${base}/#/garage`);
        const before = await page.getByTestId('points').textContent();
        await page.locator('[data-testid^="upgrade-"]').first().click();
        await page.getByTestId('garage-msg').waitFor();
        await page.waitForFunction((b) => document.querySelector('[data-testid="points"]').textContent !== b, before, {
            timeout: 10000,
        });
        const after = await page.getByTestId('points').textContent();
        assert(parseInt(after, 10) < parseInt(before, 10), `points did not go down (${before} -> ${after})`);
        await shot(page, 'garage-upgraded');
    });
    await step('write a bot from a template and save it', async () => {
        await page.goto(`${base}/#/bots`);
        await page.locator('.monaco-editor').waitFor({ timeout: 20000 });
        await page.getByLabel('bot name').fill('e2e bot');
        await page.getByTestId('save-bot').click();
        await page.waitForFunction(() => /#\/bots\/\d+/.test(location.hash), null, { timeout: 20000 });
        const botId = Number((await page.evaluate(() => location.hash)).split('/').pop());
        assert(botId > 0, 'no bot id after saving');
        await shot(page, 'bot-saved');
    });
    await step('a bad line gets a problem marker on its line', async () => {
        await page.evaluate(() => {
            const e = window.__coderally.editor;
            e.setValue(`import os\n${e.getValue()}`);
        });
        await page.getByTestId('save-bot').click();
        await page.getByTestId('problems').waitFor({ timeout: 20000 });
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 10000 });
        await shot(page, 'bot-problem-marker');
    });
    const repDir = mkdtempSync(join(tmpdir(), 'cr-e2e-rep-'));
    cleanups.push(() => rmSync(repDir, { recursive: true, force: true }));
    const rep = join(repDir, 'cli.replay');
    await step('replay viewer: a CLI replay re-simulated in the browser, bit for bit', async () => {
        const r = spawnSync(
            join(buildDir, 'coderally'),
            ['race', '--generator', 'forest', '--seed', '3', '--ai', '4', '--replay', rep],
            { cwd: root, encoding: 'utf8' },
        );
        assert(r.status === 0, `coderally race failed: ${r.stderr}`);
        await page.goto(`${base}/#/replays?debug=1`);
        await page.setInputFiles('#replay-file', rep);
        await page.waitForFunction(() => window.__coderally?.lastFrame?.cars?.length === 4, null, { timeout: 20000 });
        const warn = await page.locator('.side .form-error').allTextContents();
        if (warn.some((w) => /stage hash/.test(w))) {
            await shot(page, 'replay-viewer-inexact');
            return {
                pending: `the server's stage geometry does not rebuild the exact stage (${warn.join('; ')}); needs full-precision points`,
            };
        }
        await page.selectOption('select[aria-label="speed"]', '16');
        await page.waitForTimeout(2500);
        const text = await page.getByTestId('replay-verify').textContent();
        assert(/matches the recorded hashes/.test(text), `replay check says: ${text}`);
        const px = await waitPixels(page, '[data-testid="replay-canvas"]');
        assert(px && px.colours >= 12 && px.road > 50, 'the replay viewer shows no stage');
        await shot(page, 'replay-viewer');
    });
    await step('coderally replay view FILE: a local replay in the same viewer', async () => {
        assert(existsSync(rep), 'no CLI replay to view (the previous step failed)');
        const child = spawn(join(buildDir, 'coderally'), ['replay', 'view', rep, '--web', dist], {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
            out += d;
        });
        child.stderr.on('data', (d) => {
            out += d;
        });
        const exited = new Promise((r) => child.once('exit', (code) => r(code)));
        cleanups.push(() => {
            if (child.exitCode === null) child.kill('SIGKILL');
        });
        let url = null;
        for (let i = 0; i < 150 && !url; i++) {
            url = /open (http:\/\/\S+)/.exec(out)?.[1] ?? null;
            if (child.exitCode !== null) break;
            if (!url) await new Promise((r) => setTimeout(r, 100));
        }
        assert(url, `replay view printed no URL:\n${out}`);
        assert(/#\/replays\?src=local$/.test(url), `replay view printed ${url}`);
        await page.goto(url);
        await page.waitForFunction(() => window.__coderally?.lastFrame?.cars?.length === 4, null, { timeout: 20000 });
        const warn = await page.locator('.side .form-error').allTextContents();
        assert(warn.length === 0, `the viewer warns: ${warn.join('; ')}`);
        await page.selectOption('select[aria-label="speed"]', '16');
        await page.waitForTimeout(2500);
        const text = await page.getByTestId('replay-verify').textContent();
        assert(/matches the recorded hashes/.test(text), `replay check says: ${text}`);
        const px = await waitPixels(page, '[data-testid="replay-canvas"]');
        assert(px && px.colours >= 12 && px.road > 50, 'the local replay shows no stage');
        await shot(page, 'replay-view-cli');
        child.kill('SIGINT');
        const code = await exited;
        assert(code === 0, `replay view exited ${code} on SIGINT:\n${out}`);
        const db = /database ([^\s,]+)/.exec(out)?.[1];
        assert(db && !existsSync(dirname(db)), `replay view left its temporary database behind (${db})`);
    });
    // Back to the game server: the steps below fetch relative to the page.
    await page.goto(`${base}/#/`);
    const later = [
        'a bot and a keyboard car join a race with AI; a second browser spectates',
        'keyboard car: key press to own car moving, through the server',
        'watch it finish: race_end and results for players and spectator',
        'the result on the leaderboard',
        'open its replay',
    ];
    const races = await api('/api/races');
    if (races.status === 404) {
        for (const s of later) await step(s, async () => ({ pending: 'the server answers 404 for /api/races' }));
        return;
    }
    await step('test-run the bot: a room with AI on a chosen generator and seed, the bot racing live', async () => {
        await page.goto(`${base}/#/bots`);
        const link = page.locator('a', { hasText: 'e2e bot' }).first();
        await link.waitFor({ timeout: 15000 });
        await link.click();
        await page.locator('.monaco-editor').waitFor({ timeout: 20000 });
        await page.selectOption('#tr-gen', 'forest');
        await page.fill('#tr-seed', '3'); // starts on asphalt, which the pixel check counts
        await page.fill('#tr-ai', '2');
        await page.getByRole('button', { name: 'Test run' }).click();
        // The race runs in the panel beside the editor: the page stays.
        const panel = page.getByTestId('testrun');
        await page.waitForFunction(() => document.querySelector('[data-testid="testrun"]')?.dataset.raceId, null, {
            timeout: 15000,
        });
        const id = await panel.getAttribute('data-race-id');
        assert(/#\/bots\/\d+$/.test(await page.evaluate(() => location.hash)), 'the test run left the editor');
        const started = await page
            .waitForFunction(() => window.__coderally?.lastState?.cars?.length === 3, null, { timeout: 30000 })
            .then(() => true)
            .catch(() => false);
        if (!started) {
            await shot(page, 'test-run-not-started');
            const side = await panel.textContent();
            throw new Error(`the test run did not start in 30 s: ${side}`);
        }
        const race = (await api(`/api/races/${id}`)).body.race;
        assert(race.generator === 'forest' && race.seed === 3, `test run race: ${JSON.stringify(race).slice(0, 200)}`);
        // The bot's car moves under its own control once the race runs.
        await page.waitForFunction(
            () => {
                const s = window.__coderally.lastState;
                const c = s.cars.find((x) => x.id === s.myIndex);
                return c && Math.hypot(c.vx, c.vy) > 1;
            },
            null,
            { timeout: 30000 },
        );
        const px = await waitPixels(page, '[data-testid="testrun-canvas"]');
        await shot(page, 'test-run');
        // The cars may be on gravel by now (the road count is asphalt's colour):
        // a stage in many colours and the bot's red car.
        assert(px && px.colours >= 12 && px.red > 3, `the test run shows no stage: ${JSON.stringify(px)}`);
    });
    await step("test run: the bot's log and errors beside the editor", async () => {
        // The template, edited to log every tick and raise for a second.
        const raiseLine = await page.evaluate(() => {
            const e = window.__coderally.editor;
            const lines = e.getValue().split('\n');
            const at = lines.findIndex((l) => /^\s*def on_tick\(self, state\):/.test(l));
            if (at < 0) return -1;
            lines.splice(
                at + 1,
                0,
                '        print("e2e log at tick", state["tick"])',
                '        if 240 <= state["tick"] < 300:',
                '            raise ValueError("e2e boom")',
            );
            e.setValue(lines.join('\n'));
            return at + 4; // 1-based line of the raise
        });
        assert(raiseLine > 0, 'the template has no on_tick');
        await page.getByTestId('save-bot').click();
        await page.waitForFunction(
            () => /Saved version/.test(document.querySelector('[data-testid="editor-message"]')?.textContent ?? ''),
            null,
            { timeout: 20000 },
        );
        await page.getByRole('button', { name: 'Test run' }).click();
        await page.waitForFunction(
            () => /e2e log at tick \d+/.test(document.querySelector('[data-testid="testrun-log"]')?.textContent ?? ''),
            null,
            { timeout: 40000 },
        );
        const err = page.locator(`[data-testid="testrun-errors"] li[data-line="${raiseLine}"]`).first();
        await err.waitFor({ timeout: 40000 });
        const tick = Number(await err.getAttribute('data-tick'));
        const text = await err.textContent();
        assert(tick >= 240 && tick < 300, `the error's tick is ${tick}: ${text}`);
        assert(text.includes(`line ${raiseLine}`) && text.includes('ValueError: e2e boom'), `error item: ${text}`);
        // ... and a marker on that line, like the sandbox's problems.
        await page.waitForFunction(
            (line) =>
                window.__coderally
                    .markers()
                    .some((m) => m.owner === 'testrun' && m.startLineNumber === line && /e2e boom/.test(m.message)),
            raiseLine,
            { timeout: 10000 },
        );
        // Clicking the error shows its line, squiggled.
        await err.click();
        await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 10000 });
        const log = await page.getByTestId('testrun-log').textContent();
        const ticks = [...log.matchAll(/e2e log at tick (\d+)/g)].map((m) => Number(m[1]));
        assert(ticks.length >= 5 && ticks.every((t, i) => i === 0 || t > ticks[i - 1]), `log ticks ${ticks}`);
        assert(/\[tick \d+\]/.test(log) || log.includes('e2e log'), 'log lines missing');
        const px = await waitPixels(page, '[data-testid="testrun-canvas"]');
        assert(px && px.colours >= 12 && px.red > 3, `the test run panel shows no race: ${JSON.stringify(px)}`);
        await shot(page, 'test-run-log-errors');
        results.figures.test_run_error = { line: raiseLine, tick, log_lines: ticks.length };
    });
    let raceId = null;
    let kb = null;
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    await step(later[0], async () => {
        const gens = await api('/api/stages/generators');
        const forest = gens.body.generators.find((g) => g.name === 'forest' && !g.error);
        assert(forest, 'no forest generator');
        const created = await page.evaluate(async () => {
            const r = await fetch('/api/races', {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({
                    generator: 'forest',
                    seed: 3,
                    params: { length: 1400 },
                    max_cars: 4,
                    ai_fill: true,
                    rules: 'standard',
                }),
            });
            return { status: r.status, body: await r.json() };
        });
        assert(created.status === 201, `POST /api/races: ${created.status} ${JSON.stringify(created.body)}`);
        raceId = (created.body.race ?? created.body).id;
        // The keyboard driver: a second user, in a page of the second browser.
        kb = await browser2.ctx.newPage();
        kb.on('pageerror', (e) => log('page error (keyboard):', e.message));
        await kb.goto(`${base}/#/`);
        const reg = await kb.evaluate(
            async (u) => {
                const r = await fetch('/api/auth/register', {
                    method: 'POST',
                    headers: { 'Content-Type': 'application/json' },
                    body: JSON.stringify({ username: u, password: 'correct horse battery' }),
                });
                return r.status;
            },
            `kb${Date.now() % 1e7}`,
        );
        assert(reg === 201 || reg === 200, `register the keyboard driver: ${reg}`);
        await kb.goto(`${base}/#/race/${raceId}`);
        await kb.reload();
        // The first user's bot from the editor steps drives the first car.
        await page.goto(`${base}/#/race/${raceId}`);
        const botOption = page.locator('#join-bot option', { hasText: 'e2e bot' }).first();
        await botOption.waitFor({ state: 'attached', timeout: 15000 });
        await page.selectOption('#join-bot', await botOption.getAttribute('value'));
        await page.getByRole('button', { name: 'Join race' }).click();
        await page.getByTestId('ready').waitFor({ timeout: 15000 });
        await kb.getByRole('button', { name: 'Join race' }).click();
        await kb.getByTestId('ready').waitFor({ timeout: 15000 });
        await shot(kb, 'room-joined');
        // The lobby shows the room as GET /api/races says it stands now.
        await browser2.page.goto(`${base}/#/lobby`);
        await browser2.page
            .getByTestId(`room-${raceId}`)
            .getByText('2/4 cars · 0 watching · 2 free')
            .waitFor({ timeout: 15000 });
        await shot(browser2.page, 'lobby-room');
        await page.getByTestId('ready').click();
        await browser2.page.goto(`${base}/#/race/${raceId}?spectate=1`);
        await kb.getByTestId('ready').click();
        await kb.waitForFunction(() => window.__coderally?.lastState?.cars?.length === 4, null, {
            timeout: 30000,
        });
        const myIndex = await kb.evaluate(() => window.__coderally.lastState.myIndex);
        assert(myIndex === 1, `the keyboard car is car ${myIndex}, expected 1 (joined second)`);
        await browser2.page.waitForFunction(() => window.__coderally?.lastFrame?.cars?.length === 4, null, {
            timeout: 20000,
        });
        const px = await waitPixels(browser2.page, '[data-testid="race-canvas"]');
        assert(px && px.colours >= 12 && px.road > 50, `the spectator sees no stage: ${JSON.stringify(px)}`);
        await shot(browser2.page, 'spectator');
        return undefined;
    });
    await step(later[1], async () => {
        assert(kb && raceId, 'no race (the previous step failed)');
        await kb.waitForFunction(
            () => document.querySelector('[data-testid="race-status"]')?.textContent === 'running',
            null,
            {
                timeout: 60000,
            },
        );
        await kb.evaluate(() => {
            window.__kd = null;
            window.addEventListener(
                'keydown',
                () => {
                    window.__kd = window.__kd ?? performance.now();
                },
                { capture: true },
            );
        });
        await kb.keyboard.down('ArrowUp');
        const t = await kb.evaluate(
            () =>
                new Promise((res, rej) => {
                    const out = { drawn: null, server: null };
                    const to = setTimeout(() => rej(new Error(`no motion in 3 s: ${JSON.stringify(out)}`)), 3000);
                    (function poll() {
                        const k = window.__kd;
                        const f = window.__coderally.lastFrame;
                        const s = window.__coderally.lastState;
                        const moving = (c) => c && Math.hypot(c.vx, c.vy) > 0.05;
                        if (k !== null && out.drawn === null && f.t > k && moving(f.cars.find((c) => c.id === f.myId)))
                            out.drawn = f.drawnAt - k;
                        if (
                            k !== null &&
                            out.server === null &&
                            s.at > k &&
                            moving(s.cars.find((c) => c.id === s.myIndex))
                        )
                            out.server = s.at - k;
                        if (out.drawn !== null && out.server !== null) {
                            clearTimeout(to);
                            res(out);
                            return;
                        }
                        requestAnimationFrame(poll);
                    })();
                }),
        );
        results.figures.live_key_to_drawn_motion_ms = Math.round(t.drawn * 10) / 10;
        results.figures.live_key_to_server_motion_ms = Math.round(t.server * 10) / 10;
        // A keyboard drive (throttle, steering both ways, a handbrake flick):
        // at every snapshot the predictor compares where it had the car at
        // that tick with where the server says it was.
        const ready = await kb.evaluate(() => {
            const p = window.__coderally.predictor;
            if (p) p.resetErrors();
            return !!p;
        });
        assert(ready, 'the keyboard car has no predictor (the WASM engine did not load)');
        for (const [key, ms] of [
            ['ArrowLeft', 350],
            ['ArrowRight', 500],
            ['Space', 150],
            ['ArrowLeft', 300],
            ['ArrowRight', 300],
        ]) {
            await kb.keyboard.down(key);
            await kb.waitForTimeout(ms);
            await kb.keyboard.up(key);
            await kb.waitForTimeout(100);
        }
        await kb.waitForTimeout(300);
        const pred = await kb.evaluate(() => {
            const p = window.__coderally.predictor;
            return { ...p.errorStats(), corrections: p.corrections, pending: p.pending(), ack: p.ackTick };
        });
        log('prediction error during the keyboard drive:', JSON.stringify(pred));
        const sig2 = (v) => (v === null ? null : Number(v.toPrecision(2)));
        results.figures.live_prediction_error_p50_u = sig2(pred.p50);
        results.figures.live_prediction_error_p95_u = sig2(pred.p95);
        results.figures.live_prediction_error_max_u = sig2(pred.max);
        results.figures.live_prediction_samples = pred.n;
        results.figures.live_prediction_corrections = pred.corrections;
        await shot(kb, 'live-race-keyboard');
        await kb.keyboard.up('ArrowUp');
        assert(pred.n >= 20, `only ${pred.n} snapshots compared with the prediction`);
        assert(pred.ack !== null, 'the server never acknowledged an input (input_tick)');
        // Bounds that catch a broken reconciliation, not a slow machine: the
        // figures against their targets are in docs/BENCHMARKS.md.
        assert(pred.p95 < 2, `prediction error p95 ${pred.p95} u`);
        assert(t.drawn < 100, `key to own car moving on the canvas took ${t.drawn} ms`);
    });
    await step(later[2], async () => {
        assert(kb && raceId, 'no race (the previous steps failed)');
        // The bot and the AI finish; the keyboard car, left standing, is out
        // at the stall limit.
        for (const p of [page, kb, browser2.page]) await p.getByTestId('results').waitFor({ timeout: 150000 });
        const rows = await page.locator('[data-testid="results"] tbody tr').count();
        assert(rows === 4, `${rows} result rows`);
        const st = await api(`/api/races/${raceId}`);
        assert(st.status === 200, `GET /api/races/${raceId}: ${st.status}`);
        const race = st.body.race ?? st.body;
        assert(race.status === 'finished' && race.replay, `race ${JSON.stringify(race).slice(0, 200)}`);
        const bot = (race.results ?? []).find((r) => r.driver === 'bot');
        assert(bot && !bot.dnf, `the bot did not finish: ${JSON.stringify(race.results)}`);
        await shot(page, 'results');
        await browser2.page.screenshot({ path: join(artifacts, 'spectator-results.png') });
    });
    await step(later[3], async () => {
        assert(raceId, 'no race');
        await page.goto(`${base}/#/leaderboard`);
        await page.getByTestId('players-table').waitFor({ timeout: 10000 });
        await page
            .getByText(me.user?.username ?? me.username, { exact: true })
            .first()
            .waitFor({ timeout: 10000 });
        const pts = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
        const before = me.user?.points ?? me.points;
        const after = pts.user?.points ?? pts.points;
        const won = (await api(`/api/races/${raceId}`)).body.race.results.find((r) => r.driver === 'bot').points;
        assert(after >= before + won, `points ${before} + ${won} from the race > ${after}`); // the test run may have won some too
        // A race with fewer than two bots rates nobody (docs/API.md), so the
        // bots' table is only checked to render from the server.
        await page.getByTestId('bots-table').waitFor({ timeout: 10000 });
        await shot(page, 'leaderboard');
    });
    await step(later[4], async () => {
        assert(raceId, 'no race');
        await page.goto(`${base}/#/replay/${raceId}`);
        await page.waitForFunction(() => window.__coderally?.lastFrame?.cars?.length === 4, null, { timeout: 20000 });
        const warn = await page.locator('.side .form-error').allTextContents();
        assert(warn.length === 0, `the replay viewer warns: ${warn.join('; ')}`);
        await page.selectOption('select[aria-label="speed"]', '16');
        await page.waitForTimeout(2500);
        const text = await page.getByTestId('replay-verify').textContent();
        assert(/matches the recorded hashes/.test(text), `replay check says: ${text}`);
        const px = await waitPixels(page, '[data-testid="replay-canvas"]');
        assert(px && px.colours >= 12 && px.road > 50, 'the race replay shows no stage');
        await shot(page, 'race-replay');
    });
}

async function main() {
    assert(existsSync(join(dist, 'index.html')), `${dist}/index.html is missing: run make web first`);
    assert(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`);
    rmSync(artifacts, { recursive: true, force: true });
    mkdirSync(artifacts, { recursive: true });
    const bin = join(buildDir, 'coderally');
    const hasServe = existsSync(bin) && spawnSync(bin, ['serve', '--help'], { stdio: 'ignore' }).status === 0;
    results.mode = hasServe ? 'server' : 'static';
    const base = hasServe ? await realServer(bin) : await staticServer();
    log(`mode ${results.mode}, ${base}`);
    const b1 = await browser();
    await offlineSteps(base, b1.page);
    if (hasServe) {
        const b2 = await browser();
        await serverSteps(base, b1.page, b2);
    } else {
        await step('server flow (register, garage, bot editor, races, spectate, replay)', async () => ({
            pending: `${bin} has no serve subcommand yet`,
        }));
    }
}

main()
    .catch((e) => {
        failed += 1;
        log('FAILED', e.stack || e);
    })
    .finally(async () => {
        for (const c of cleanups) {
            try {
                await c();
            } catch {
                /* best effort */
            }
        }
        writeFileSync(join(artifacts, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
        const n = (s) => results.steps.filter((x) => x.status === s).length;
        log(`${n('ok')} ok, ${n('pending')} pending, ${failed} failed; figures: ${JSON.stringify(results.figures)}`);
        process.exit(failed ? 1 : 0);
    });

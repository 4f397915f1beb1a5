// TestRunPanel.jsx - the editor's test run, beside the editor: makes a room
// with AI drivers on the chosen generator and seed, joins it with the bot
// over the shared WebSocket, readies, and shows the live race (the race
// view's GameCanvas and renderer, the bot's drawings in its debug overlay),
// the bot's log and its errors (tick, line, cause). The errors go up as
// editor problems, so they become Monaco markers on their lines.
import React, { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import GameCanvas, { useLiveRays } from '../game/GameCanvas.jsx';
import { SnapshotBuffer } from '../game/interpolation.js';
import { stageGeometry } from '../game/renderer.js';
import { hudFor, SplitClock } from '../game/hud.js';
import { useApi, useAuth, useWs } from '../state/store.jsx';
import { describeError, errorsToProblems, initialTestRun, testRunReducer } from './testrun.js';

/**
 * props: request ({ botId, generator, seed, ai, n }: a new n starts a new
 * run) or null, onProblems(problems), onReveal(line), onRerun() (null when
 * the bot cannot run now: unsaved), onClose().
 */
export default function TestRunPanel({ request, onProblems, onReveal, onRerun, onClose }) {
    const api = useApi();
    const ws = useWs();
    const { auth } = useAuth();
    const userId = auth?.user?.id ?? null;
    const [tr, dispatch] = useReducer(testRunReducer, initialTestRun);
    const [geometry, setGeometry] = useState(null);
    const geo = useMemo(() => (geometry ? stageGeometry(geometry) : null), [geometry]);
    const [debug, setDebug] = useState(true);
    const rays = useLiveRays(geometry, debug);
    const buffer = useRef(new SnapshotBuffer({ delayMs: 100 }));
    const splits = useRef(new SplitClock());
    const live = useRef({ carIndex: null, drawings: [] });
    live.current.carIndex = tr.carIndex;
    live.current.drawings = tr.drawings;
    const logBox = useRef(null);

    // A new request: create the room, then join it with the bot and ready.
    useEffect(() => {
        if (!request) return undefined;
        let alive = true;
        let joined = null;
        let readied = false;
        let phase = null;
        buffer.current.clear();
        splits.current = new SplitClock();
        setGeometry(null);
        dispatch({ type: 'testrun/creating' });
        const offs = [
            ws.on('lobby', (m) => {
                if (m.race_id !== joined) return;
                dispatch({ type: 'testrun/lobby', msg: m });
                const me = (m.players ?? []).find(
                    (p) => p.user && (p.user.id ?? p.user) === userId && p.bot_id === request.botId,
                );
                // Ready once the server has the join (it checks car and bot first).
                if (me && !me.ready && !readied && m.state === 'open') {
                    readied = true;
                    ws.send('ready');
                }
            }),
            ws.on('race_start', (m) => {
                if (m.race_id === joined) dispatch({ type: 'testrun/start', msg: m, userId });
            }),
            ws.on('game_state', (m) => {
                if (!joined) return;
                const at = performance.now();
                buffer.current.push(m, at);
                window.__coderally = window.__coderally || {};
                window.__coderally.lastState = { at, tick: m.tick, cars: m.cars, myIndex: live.current.carIndex };
                if (m.race_info.phase !== phase) {
                    phase = m.race_info.phase;
                    dispatch({ type: 'testrun/tick', phase });
                }
            }),
            ws.on('race_end', (m) => {
                if (m.race_id === joined) dispatch({ type: 'testrun/end', msg: m });
            }),
            ws.on('bot_log', (m) => joined && dispatch({ type: 'testrun/log', msg: m })),
            ws.on('bot_error', (m) => joined && dispatch({ type: 'testrun/error', msg: m })),
            ws.on('bot_draw', (m) => joined && dispatch({ type: 'testrun/draw', msg: m })),
            ws.on('error', (m) => {
                // A refused join, or a race that could not start.
                if (joined && (!readied || m.code === 'race_failed'))
                    dispatch({ type: 'testrun/failed', message: m.message });
            }),
        ];
        (async () => {
            try {
                const [garage, race] = await Promise.all([
                    api.garage(),
                    api.createRace({
                        generator: request.generator,
                        seed: request.seed,
                        ai_fill: true,
                        max_cars: request.ai + 1,
                        rules: 'standard',
                    }),
                ]);
                if (!alive) return;
                const car = garage.cars?.[0];
                if (!car) throw new Error('you have no car to test-run with');
                const id = (race.race ?? race).id;
                joined = id;
                dispatch({ type: 'testrun/created', raceId: id });
                ws.send('join_race', { race_id: id, car_id: car.id, bot_id: request.botId });
                const g = await api.stage(request.generator, request.seed, {});
                if (alive) setGeometry(g);
            } catch (e) {
                if (alive) dispatch({ type: 'testrun/failed', message: e.message || String(e) });
            }
        })();
        return () => {
            alive = false;
            offs.forEach((f) => f());
            if (joined) ws.send('leave');
        };
    }, [api, ws, request, userId]);

    const problems = useMemo(() => errorsToProblems(tr.errors), [tr.errors]);
    const report = useRef(onProblems);
    report.current = onProblems;
    useEffect(() => {
        report.current?.(problems);
    }, [problems]);

    // The log keeps to its bottom while the race runs.
    useEffect(() => {
        const el = logBox.current;
        if (el) el.scrollTop = el.scrollHeight;
    }, [tr.log]);

    const getFrame = (now) => {
        const s = buffer.current.sample(now);
        if (!s) return null;
        const focus = live.current.carIndex ?? s.cars[0]?.id;
        const car = s.cars.find((c) => c.id === focus);
        return {
            cars: s.cars,
            myId: focus,
            focus,
            debug: debug ? { rays: rays.current?.cast(s.cars) ?? null, drawings: live.current.drawings } : null,
            hud: hudFor(car, s.race_info, geo, splits.current, { cars: s.cars.length }),
            minimap: false, // too small a canvas: the HUD and the car need the room
        };
    };

    if (!request) return null;
    return (
        <div className="card testrun" data-testid="testrun" data-race-id={tr.raceId ?? ''}>
            <div className="row" style={{ alignItems: 'center', gap: 8 }}>
                <h3 style={{ margin: 0, flex: 1 }}>Test run</h3>
                <span className="pill" data-testid="testrun-status">
                    {tr.status}
                </span>
                <label className="muted">
                    <input type="checkbox" checked={debug} onChange={(e) => setDebug(e.target.checked)} /> debug
                </label>
                <button className="secondary" disabled={!onRerun} onClick={() => onRerun?.()}>
                    Run again
                </button>
                <button className="secondary" onClick={onClose}>
                    Close
                </button>
            </div>
            {tr.error && (
                <div className="form-error" role="alert">
                    {tr.error}
                </div>
            )}
            {geo ? (
                <GameCanvas geo={geo} getFrame={getFrame} zoom={5} testId="testrun-canvas" />
            ) : (
                <p className="muted">Setting up the race…</p>
            )}
            <h4>
                Errors <span className="muted">({tr.errors.length})</span>
            </h4>
            <ul className="problems testrun-errors" data-testid="testrun-errors">
                {tr.errors.map((e) => (
                    <li
                        key={e.index}
                        title={e.message}
                        onClick={() => Number.isInteger(e.line) && onReveal?.(e.line)}
                        data-line={e.line ?? ''}
                        data-tick={e.tick ?? ''}
                    >
                        {describeError(e)}
                    </li>
                ))}
            </ul>
            <h4>
                Log{' '}
                <span className="muted">
                    ({tr.logTotal} lines{tr.dropped ? `, ${tr.dropped} dropped over the rate cap` : ''})
                </span>
            </h4>
            <pre className="testrun-log" ref={logBox} data-testid="testrun-log">
                {tr.log.map((l) => `${l.text}\n`).join('')}
            </pre>
        </div>
    );
}

import React, { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import GameCanvas, { useLiveRays } from '../../game/GameCanvas.jsx';
import { SnapshotBuffer, TICK_MS } from '../../game/interpolation.js';
import { stageGeometry } from '../../game/renderer.js';
import { KeyboardInput } from '../../game/input.js';
import { hudFor, SplitClock } from '../../game/hud.js';
import { loadEngine } from '../../game/engine.js';
import { Predictor } from '../../game/prediction.js';
import { initialRace, raceReducer } from '../../state/reducers.js';
import { useApi, useAuth, useLoad, useWs } from '../../state/store.jsx';
import { ErrorText } from '../common/Field.jsx';
import Results from './Results.jsx';

const STAT_ORDER = [
    'top_speed',
    'acceleration',
    'grip',
    'braking',
    'nitro_capacity',
    'nitro_duration',
    'handling',
    'weight',
];

function JoinPanel({ onJoin, joined, autoBot }) {
    const api = useApi();
    const garage = useLoad(() => api.garage(), []);
    const bots = useLoad(() => api.bots(), []);
    const [car, setCar] = useState('');
    const [bot, setBot] = useState('');
    const cars = garage.data?.cars ?? [];
    const carId = car || cars[0]?.id;
    // A test run from the bot editor joins with that bot at once.
    useEffect(() => {
        if (autoBot && carId && !joined)
            onJoin(
                Number(carId),
                Number(autoBot),
                cars.find((c) => String(c.id) === String(carId)),
                true,
            );
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [autoBot, carId, joined]);
    return (
        <div className="card" data-testid="join-panel">
            <h3>Join</h3>
            <div className="field">
                <label htmlFor="join-car">Car</label>
                <select id="join-car" value={carId ?? ''} onChange={(e) => setCar(e.target.value)}>
                    {cars.map((c) => (
                        <option key={c.id} value={c.id}>
                            {c.name}
                        </option>
                    ))}
                </select>
            </div>
            <div className="field">
                <label htmlFor="join-bot">Driver</label>
                <select id="join-bot" value={bot} onChange={(e) => setBot(e.target.value)}>
                    <option value="">Keyboard (me)</option>
                    {(bots.data?.bots ?? []).map((b) => (
                        <option key={b.id} value={b.id}>
                            {b.name} v{b.version}
                        </option>
                    ))}
                </select>
            </div>
            <button
                disabled={!carId || joined}
                onClick={() =>
                    onJoin(
                        Number(carId),
                        bot ? Number(bot) : null,
                        cars.find((c) => String(c.id) === String(carId)),
                    )
                }
            >
                {joined ? 'Joined' : 'Join race'}
            </button>
        </div>
    );
}

export default function RacePage({ raceId, query }) {
    const ws = useWs();
    const api = useApi();
    const { auth } = useAuth();
    const spectate = query.spectate === '1' || auth.status !== 'in';
    const [state, dispatch] = useReducer(raceReducer, initialRace);
    const [debug, setDebug] = useState(false);
    const [ready, setReady] = useState(false);
    const buffer = useRef(new SnapshotBuffer({ delayMs: 100 }));
    const splits = useRef(new SplitClock());
    const predictor = useRef(null);
    const mine = useRef({ carId: null, botId: null, stats: null, index: null });
    // My bot's debug drawings (bot_draw: sent to the bot's owner only), per car.
    const botDrawings = useRef(new Map());
    const [geometry, setGeometry] = useState(null);
    const geo = useMemo(() => (geometry ? stageGeometry(geometry) : null), [geometry]);
    const rays = useLiveRays(geometry, debug);

    useEffect(() => {
        dispatch({ type: 'race/join', raceId, role: spectate ? 'spectator' : 'player' });
        buffer.current.clear();
        botDrawings.current.clear();
        dispatch({ type: 'race/connection', status: ws.status });
        const offs = [
            ws.on('status', (e) => dispatch({ type: 'race/connection', status: e.status })),
            ws.on('lobby', (m) => {
                dispatch({ type: 'race/lobby', msg: m });
                const idx = m.players.findIndex(
                    (p) =>
                        p.user &&
                        auth.user &&
                        (p.user.id ?? p.user) === auth.user.id &&
                        p.car_id === mine.current.carId,
                );
                if (idx >= 0) mine.current.index = m.players[idx].car_index ?? idx;
                // A test run readies once the server has the join: it checks
                // the car and bot first, so an early ready finds no slot.
                if (idx >= 0 && mine.current.autoReady && !m.players[idx].ready) {
                    mine.current.autoReady = false;
                    ws.send('ready');
                }
            }),
            ws.on('race_start', (m) => {
                // The grid as the server set it: my car is the one with my user
                // and my kind of driver (players join in order, then AI).
                const kind = mine.current.botId !== null ? 'bot' : 'human';
                const me = (m.cars ?? []).find(
                    (c) => c.user && auth.user && (c.user.id ?? c.user) === auth.user.id && c.kind === kind,
                );
                if (me && mine.current.carId !== null) mine.current.index = me.id;
                // The stage comes with the start (a spectator's first sight of it).
                if (m.stage?.geometry) setGeometry((old) => old ?? m.stage.geometry);
                dispatch({ type: 'race/start', msg: m });
            }),
            ws.on('game_state', (m) => {
                const at = performance.now();
                buffer.current.push(m, at);
                // For the e2e run: the newest snapshot as it arrived.
                window.__coderally = window.__coderally || {};
                window.__coderally.lastState = { at, tick: m.tick, cars: m.cars, myIndex: mine.current.index };
                dispatch({ type: 'race/tick', tick: m.tick, phase: m.race_info.phase });
                const p = predictor.current;
                const me = mine.current.index !== null ? m.cars.find((c) => c.id === mine.current.index) : null;
                if (p && me) {
                    p.reconcile(m.tick, me, m.race_info, at);
                    // For the e2e run: how far the prediction was from the server.
                    window.__coderally.prediction = { ...p.errorStats(), pending: p.pending(), ack: p.ackTick };
                }
            }),
            ws.on('race_end', (m) => dispatch({ type: 'race/end', msg: m })),
            ws.on('bot_draw', (m) => botDrawings.current.set(m.car, m.drawings)),
            ws.on('lobby_message', (m) => dispatch({ type: 'race/notice', msg: m })),
            ws.on('error', (m) => dispatch({ type: 'race/error', message: m.message })),
        ];
        if (spectate) ws.send('spectate', { race_id: raceId });
        return () => {
            offs.forEach((f) => f());
            ws.send('leave');
        };
    }, [ws, raceId, spectate, auth.user]);

    // No stage message yet (or a server that does not send one): ask REST.
    useEffect(() => {
        if (geometry) return undefined;
        let live = true;
        api.race(raceId)
            .then(({ race }) => api.stage(race.generator, race.seed, race.params))
            .then((g) => {
                if (live) setGeometry((old) => old ?? g);
            })
            .catch(() => {});
        return () => {
            live = false;
        };
    }, [api, raceId, geometry]);

    // The keyboard car: inputs to the server and to the local prediction.
    useEffect(() => {
        if (spectate || mine.current.botId !== null || state.status === 'idle') return undefined;
        let lastTick = -1;
        const k = new KeyboardInput(window, (actions, now) => {
            // The server's tick now, as far as the snapshots tell: inputs apply
            // on arrival, so the step from this tick is the first they drive.
            // Strictly increasing, so the server's input_tick acks exactly.
            const b = buffer.current;
            const est = b.offset === null ? 0 : Math.max(0, Math.floor((now - b.offset) / TICK_MS));
            const p = predictor.current;
            const tick = Math.max(p ? p.nextTick(est) : est, lastTick + 1);
            lastTick = tick;
            ws.send('input', { actions, tick });
            if (p) p.input(tick, actions);
        }).attach();
        return () => k.detach();
    }, [ws, spectate, state.status]);

    useEffect(() => {
        if (!geometry || spectate || !mine.current.stats || mine.current.botId !== null) return undefined;
        let p = null;
        loadEngine()
            .then((e) => {
                p = new Predictor(e, geometry, mine.current.stats);
                predictor.current = p;
                // For the e2e run: the prediction error figures.
                window.__coderally = window.__coderally || {};
                window.__coderally.predictor = p;
            })
            .catch(() => {});
        return () => {
            predictor.current = null;
            if (p) p.destroy();
        };
    }, [geometry, spectate, state.status]);

    const [, bump] = useState(0);
    function join(carId, botId, car, autoReady = false) {
        mine.current = {
            carId,
            botId,
            stats: car ? STAT_ORDER.map((s) => car.stats[s]) : null,
            index: null,
            autoReady,
        };
        ws.send('join_race', { race_id: raceId, car_id: carId, bot_id: botId });
        if (autoReady) setReady(true);
        bump((n) => n + 1);
    }

    const getFrame = (now) => {
        const s = buffer.current.sample(now);
        if (!s) return null;
        let cars = s.cars;
        const myId = mine.current.index;
        const p = predictor.current;
        if (p && myId !== null && buffer.current.offset !== null) {
            const tickNow = Math.floor((now - buffer.current.offset) / TICK_MS);
            const pc = p.advance(tickNow, now);
            if (pc)
                cars = cars.map((c) =>
                    c.id === myId
                        ? {
                              ...c,
                              x: pc.x,
                              y: pc.y,
                              heading: pc.heading,
                              vx: pc.vx,
                              vy: pc.vy,
                              angular_velocity: pc.angular_velocity,
                          }
                        : c,
                );
        }
        const focus = myId ?? cars[0]?.id;
        const car = cars.find((c) => c.id === focus);
        const banner = state.status === 'finished' ? 'Finished' : null;
        return {
            cars,
            myId,
            focus,
            debug: debug
                ? { rays: rays.current?.cast(cars) ?? null, drawings: [...botDrawings.current.values()].flat() }
                : null,
            hud: hudFor(car, s.race_info, geo, splits.current, { cars: cars.length, banner }),
        };
    };

    const players = state.lobby?.players ?? [];
    return (
        <div className="page race-layout">
            <div className="grow">
                <ErrorText error={state.error ? { message: state.error } : null} />
                {geo ? <GameCanvas geo={geo} getFrame={getFrame} /> : <p className="muted">Waiting for the stage…</p>}
            </div>
            <div className="side">
                {state.notices.length > 0 && (
                    <div className="card" data-testid="lobby-notices">
                        <h3>From the lobby</h3>
                        <ul>
                            {state.notices.map((t, i) => (
                                <li key={i}>{t}</li>
                            ))}
                        </ul>
                    </div>
                )}
                <div className="card">
                    <h3>Race {raceId}</h3>
                    <p>
                        <span className="pill" data-testid="race-status">
                            {state.status}
                        </span>{' '}
                        <span className="muted">{state.connection}</span>
                    </p>
                    <label>
                        <input type="checkbox" checked={debug} onChange={(e) => setDebug(e.target.checked)} /> debug
                        overlay
                    </label>
                    {state.countdown !== null && state.status === 'countdown' && <p>Starting in {state.countdown} s</p>}
                </div>
                {!spectate && <JoinPanel joined={mine.current.carId !== null} onJoin={join} autoBot={query.bot} />}
                {!spectate && mine.current.carId !== null && state.status === 'lobby' && (
                    <button
                        disabled={ready}
                        onClick={() => {
                            ws.send('ready');
                            setReady(true);
                        }}
                        data-testid="ready"
                    >
                        {ready ? 'Ready!' : 'Ready'}
                    </button>
                )}
                <div className="card">
                    <h3>Grid</h3>
                    <ol>
                        {players.map((p, i) => (
                            <li key={i}>
                                {p.user?.username ?? p.user ?? 'AI'}{' '}
                                <span className="muted">
                                    {p.kind}
                                    {p.ready ? ' · ready' : ''}
                                </span>
                            </li>
                        ))}
                    </ol>
                </div>
                {state.results && <Results results={state.results} raceId={raceId} />}
            </div>
        </div>
    );
}

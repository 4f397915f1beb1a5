import React, { useEffect, useMemo, useRef, useState } from 'react';
import GameCanvas from '../../game/GameCanvas.jsx';
import { loadEngine, ReplaySimulator } from '../../game/engine.js';
import { parseReplay } from '../../game/replay.js';
import { stageDescFromGeometry } from '../../game/prediction.js';
import { formatTime, stageGeometry } from '../../game/renderer.js';
import { hudFor } from '../../game/hud.js';
import { useApi } from '../../state/store.jsx';
import { ErrorText } from '../common/Field.jsx';

export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16];

/**
 * The numbers the simulation needs from the server's answer for the replay's
 * rules (GET /api/rules/NAME for its stage): the server reads them from the
 * script itself, so nothing here copies rules/*.lua.
 */
export function simRules(rules) {
    for (const k of ['countdown_ticks', 'time_limit_ticks', 'stall_limit_ticks'])
        if (!Number.isInteger(rules?.[k]) || rules[k] < 0) throw new Error(`the server's rules lack ${k}`);
    return {
        countdown_ticks: rules.countdown_ticks,
        time_limit_ticks: rules.time_limit_ticks,
        stall_limit_ticks: rules.stall_limit_ticks,
    };
}

/** Latest drawings per car at or before tick. */
export function drawingsAt(replay, tick) {
    const per = new Map();
    for (const d of replay.drawings) {
        if (d.tick > tick) break;
        per.set(d.car, d.items);
    }
    return [...per.values()].flat();
}

async function loadOne(api, engine, source) {
    const bytes = source.bytes ?? (source.local ? await api.localReplayBytes() : await api.replayBytes(source.id));
    const replay = parseReplay(bytes);
    const h = replay.header;
    const geometry = await api.stage(h.generator, h.seed, h.params);
    const { rules } = await api.rules(h.rules, h.generator, h.seed, h.params);
    const stage = engine.createStage(stageDescFromGeometry(geometry));
    const warn =
        stage.hash() !== h.stageHash
            ? `stage hash ${stage.hash()} differs from the replay's ${h.stageHash}`
            : rules.hash !== h.rulesHash
              ? `rules/${h.rules}.lua changed since the recording (hash ${rules.hash}, recorded ${h.rulesHash})`
              : null;
    const sim = new ReplaySimulator(stage, replay, simRules(rules));
    return { replay, geometry, stage, sim, warn };
}

export default function ReplayPage({ raceId, query }) {
    const api = useApi();
    const [main, setMain] = useState(null);
    const [ghost, setGhost] = useState(null);
    const [error, setError] = useState(null);
    const [playing, setPlaying] = useState(true);
    const [speed, setSpeed] = useState(1);
    const [debug, setDebug] = useState(query.debug === '1');
    const [tick, setTick] = useState(0);
    const clock = useRef({ tick: 0, last: null });
    const ctl = useRef({});
    ctl.current = { playing, speed };

    async function open(source, ghostSource) {
        setError(null);
        try {
            const engine = await loadEngine();
            const m = await loadOne(api, engine, source);
            const g = ghostSource ? await loadOne(api, engine, ghostSource) : null;
            clock.current = { tick: 0, last: null };
            setMain(m);
            setGhost(g);
        } catch (e) {
            setError(e);
        }
    }
    useEffect(() => {
        const ghostSource = query.ghost ? { id: query.ghost } : null;
        if (raceId) open({ id: raceId }, ghostSource);
        else if (query.src === 'local') open({ local: true }, ghostSource);
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [raceId, query.ghost, query.src]);
    useEffect(
        () => () => {
            main?.sim.destroy();
            main?.stage.destroy();
        },
        [main],
    );
    useEffect(
        () => () => {
            ghost?.sim.destroy();
            ghost?.stage.destroy();
        },
        [ghost],
    );
    useEffect(() => {
        const t = setInterval(() => setTick(Math.floor(clock.current.tick)), 100);
        return () => clearInterval(t);
    }, []);

    const geo = useMemo(() => (main ? stageGeometry(main.geometry) : null), [main]);
    const finalTick = main?.replay.finalTick ?? 0;
    const getFrame = (now) => {
        const c = clock.current;
        if (c.last !== null && ctl.current.playing)
            c.tick = Math.min(finalTick, c.tick + ((now - c.last) / 1000) * 60 * ctl.current.speed);
        c.last = now;
        const want = Math.floor(c.tick);
        main.sim.seek(want);
        const cars = main.sim.race
            .snapshot()
            .cars.map((x, id) => ({ ...x, id, name: main.replay.header.cars[id].name }));
        if (ghost) {
            ghost.sim.seek(want);
            ghost.sim.race.snapshot().cars.forEach((x, id) => cars.push({ ...x, id: 100 + id, ghost: true }));
        }
        const dbg = debug
            ? {
                  rays: new Map(cars.filter((x) => !x.ghost).map((x) => [x.id, main.sim.race.sensors(x.id).rays])),
                  drawings: drawingsAt(main.replay, want),
              }
            : null;
        const s = main.sim.race.snapshot();
        const lead = cars.find((x) => x.position === 1 && !x.ghost) ?? cars[0];
        return {
            cars,
            focus: lead.id,
            myId: undefined,
            debug: dbg,
            hud: hudFor(lead, { time: s.time_s }, geo, null, { cars: s.cars.length }),
        };
    };

    function onFile(e) {
        const f = e.target.files?.[0];
        if (!f) return;
        f.arrayBuffer().then((b) => open({ bytes: new Uint8Array(b) }, null));
    }

    return (
        <div className="page race-layout">
            <div className="grow">
                <ErrorText error={error} />
                {main && geo ? (
                    <GameCanvas geo={geo} getFrame={getFrame} testId="replay-canvas" />
                ) : (
                    <p className="muted">
                        {raceId || query.src ? 'Loading the replay…' : 'Open a replay file or pick a race.'}
                    </p>
                )}
            </div>
            <div className="side">
                <div className="card">
                    <h3>Replay {raceId ?? ''}</h3>
                    <div className="field">
                        <label htmlFor="replay-file">Open a local replay</label>
                        <input id="replay-file" type="file" onChange={onFile} />
                    </div>
                    {main && (
                        <>
                            <p className="muted">
                                {main.replay.header.generator} seed {main.replay.header.seed} ·{' '}
                                {main.replay.header.cars.length} cars
                            </p>
                            {main.warn && <p className="form-error">{main.warn}</p>}
                            <div className="row">
                                <button onClick={() => setPlaying(!playing)} data-testid="play">
                                    {playing ? 'Pause' : 'Play'}
                                </button>
                                <select
                                    value={speed}
                                    onChange={(e) => setSpeed(Number(e.target.value))}
                                    aria-label="speed"
                                >
                                    {SPEEDS.map((s) => (
                                        <option key={s} value={s}>
                                            {s}×
                                        </option>
                                    ))}
                                </select>
                            </div>
                            <input
                                type="range"
                                min={0}
                                max={finalTick}
                                value={tick}
                                style={{ width: '100%' }}
                                aria-label="position"
                                onChange={(e) => {
                                    clock.current.tick = Number(e.target.value);
                                    setTick(Number(e.target.value));
                                }}
                            />
                            <p>
                                {formatTime(tick / 60)} / {formatTime(finalTick / 60)}
                            </p>
                            <p data-testid="replay-verify">
                                {main.sim.mismatch ? (
                                    <span className="form-error">
                                        differs from the recording at tick {main.sim.mismatch.tick}
                                    </span>
                                ) : (
                                    <span className="ok">matches the recorded hashes so far</span>
                                )}
                            </p>
                            <label>
                                <input type="checkbox" checked={debug} onChange={(e) => setDebug(e.target.checked)} />{' '}
                                debug overlay
                            </label>
                            {ghost && (
                                <p className="muted">
                                    Ghosts: {ghost.replay.header.cars.map((c) => c.name).join(', ')}
                                </p>
                            )}
                        </>
                    )}
                </div>
            </div>
        </div>
    );
}

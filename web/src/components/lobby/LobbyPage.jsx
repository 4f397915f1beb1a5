import React, { useState } from 'react';
import { ErrorText } from '../common/Field.jsx';
import { useApi, useAuth, useLoad } from '../../state/store.jsx';
import { go } from '../../router.js';

const LIVE = ['open', 'countdown', 'running'];

/**
 * The rooms live on the server, from the answers of GET /api/races?status=open
 * and ?status=running: a race is live when the server sends its live `state`
 * (docs/API.md, "Live rooms"); open rooms first, each once.
 */
export function liveRooms(answers) {
    const seen = new Set();
    const rooms = [];
    for (const a of answers) {
        for (const r of a?.races ?? []) {
            if (!LIVE.includes(r.state) || seen.has(r.id)) continue;
            seen.add(r.id);
            rooms.push(r);
        }
    }
    return rooms.sort((x, y) => (x.state === 'open' ? 0 : 1) - (y.state === 'open' ? 0 : 1));
}

/** "2/4 cars · 1 watching · 2 free", as the live fields say. */
export function occupancy(r) {
    const parts = [`${r.players.length}/${r.max_cars} cars`, `${r.spectators} watching`];
    if (r.state === 'open') parts.push(`${r.free_seats} free`);
    return parts.join(' · ');
}

/** Who sits in the room: names, a bot's marked, a dropped player's too. */
export function seatedNames(r) {
    return r.players
        .map((p) => `${p.user.username}${p.kind === 'bot' ? ' (bot)' : ''}${p.connected ? '' : ' (away)'}`)
        .join(', ');
}

/** Seconds until an empty open room closes, or null. */
export function closesIn(r, nowS) {
    return r.expires_at == null ? null : Math.max(0, Math.round(r.expires_at - nowS));
}

export function canJoin(r) {
    return r.state === 'open' && r.free_seats > 0;
}

function CreateRoom({ generators, onCreated }) {
    const api = useApi();
    const [gen, setGen] = useState('');
    const [seed, setSeed] = useState('');
    const [params, setParams] = useState({});
    const [rules, setRules] = useState('standard');
    const [maxCars, setMaxCars] = useState(8);
    const [aiFill, setAiFill] = useState(true);
    const [error, setError] = useState(null);
    const list = (generators ?? []).filter((g) => !g.error);
    const chosen = list.find((g) => g.name === gen) ?? list[0];
    async function create(e) {
        e.preventDefault();
        setError(null);
        const body = { generator: chosen.name, rules, max_cars: Number(maxCars), ai_fill: aiFill };
        if (seed !== '') body.seed = Number(seed);
        const p = Object.fromEntries(
            Object.entries(params)
                .filter(([, v]) => v !== '')
                .map(([k, v]) => [k, Number(v)]),
        );
        if (Object.keys(p).length) body.params = p;
        try {
            const r = await api.createRace(body);
            onCreated(r.race ?? r);
        } catch (err) {
            setError(err);
        }
    }
    if (!chosen) return <p className="muted">No stage generators available.</p>;
    return (
        <form className="card" onSubmit={create} data-testid="create-room">
            <h3>Create a room</h3>
            <div className="row">
                <div className="field">
                    <label htmlFor="gen">Generator</label>
                    <select
                        id="gen"
                        value={chosen.name}
                        onChange={(e) => {
                            setGen(e.target.value);
                            setParams({});
                        }}
                    >
                        {list.map((g) => (
                            <option key={g.name} value={g.name}>
                                {g.name}
                            </option>
                        ))}
                    </select>
                </div>
                <div className="field">
                    <label htmlFor="seed">Seed (empty: random)</label>
                    <input
                        id="seed"
                        value={seed}
                        onChange={(e) => setSeed(e.target.value.replace(/[^0-9]/g, ''))}
                        style={{ width: 130 }}
                    />
                </div>
                <div className="field">
                    <label htmlFor="rules">Rules</label>
                    <input id="rules" value={rules} onChange={(e) => setRules(e.target.value)} style={{ width: 110 }} />
                </div>
                <div className="field">
                    <label htmlFor="maxcars">Max cars</label>
                    <input
                        id="maxcars"
                        type="number"
                        min={1}
                        max={16}
                        value={maxCars}
                        onChange={(e) => setMaxCars(e.target.value)}
                        style={{ width: 70 }}
                    />
                </div>
                <label style={{ alignSelf: 'center' }}>
                    <input type="checkbox" checked={aiFill} onChange={(e) => setAiFill(e.target.checked)} /> fill with
                    AI
                </label>
            </div>
            <p className="muted">{chosen.description}</p>
            <div className="row">
                {(chosen.params ?? []).map((p) => (
                    <div className="field" key={p.name}>
                        <label htmlFor={`p-${p.name}`} title={p.description}>
                            {p.name} ({p.min}–{p.max})
                        </label>
                        <input
                            id={`p-${p.name}`}
                            placeholder={String(p.default)}
                            value={params[p.name] ?? ''}
                            style={{ width: 90 }}
                            onChange={(e) => setParams({ ...params, [p.name]: e.target.value })}
                        />
                    </div>
                ))}
            </div>
            <ErrorText error={error} />
            <button type="submit">Create room</button>
        </form>
    );
}

export default function LobbyPage() {
    const api = useApi();
    const { auth } = useAuth();
    const rooms = useLoad(() => Promise.all([api.races('open'), api.races('running')]), []);
    const gens = useLoad(() => api.generators(), []);
    React.useEffect(() => {
        const t = setInterval(rooms.reload, 3000);
        return () => clearInterval(t);
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, []);
    const list = liveRooms(rooms.data ?? []);
    const now = Date.now() / 1000;
    return (
        <div className="page">
            <h1>Lobby</h1>
            <p>
                <a href="#/demo">Practice offline</a> against the built-in AI, no server needed.
            </p>
            {auth.status === 'in' && (
                <CreateRoom generators={gens.data?.generators} onCreated={(r) => go(`/race/${r.id}`)} />
            )}
            <div className="card">
                <h3>Rooms and live races</h3>
                {rooms.error && <p className="muted">Rooms are not available: {rooms.error.message}</p>}
                {!rooms.error && list.length === 0 && <p className="muted">No open rooms. Create one.</p>}
                <table>
                    <tbody>
                        {list.map((r) => (
                            <tr key={r.id} data-testid={`room-${r.id}`}>
                                <td>
                                    <img
                                        alt={`${r.generator} stage`}
                                        src={api.stageSvgUrl(r.generator, r.seed, r.params)}
                                        width={120}
                                        height={80}
                                        style={{ background: '#2f5a2a' }}
                                    />
                                </td>
                                <td>
                                    <b>{r.generator}</b> seed {r.seed}
                                    <br />
                                    <span className="muted">{r.rules}</span>
                                </td>
                                <td>
                                    <span className="pill">{r.state}</span>
                                </td>
                                <td>
                                    {occupancy(r)}
                                    {r.players.length > 0 && (
                                        <>
                                            <br />
                                            <span className="muted">{seatedNames(r)}</span>
                                        </>
                                    )}
                                    {closesIn(r, now) != null && (
                                        <>
                                            <br />
                                            <span className="muted">
                                                closes in {closesIn(r, now)} s unless someone joins
                                            </span>
                                        </>
                                    )}
                                </td>
                                <td>
                                    {canJoin(r) && auth.status === 'in' && (
                                        <button onClick={() => go(`/race/${r.id}`)}>Join</button>
                                    )}{' '}
                                    <button className="secondary" onClick={() => go(`/race/${r.id}?spectate=1`)}>
                                        Spectate
                                    </button>
                                </td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            </div>
        </div>
    );
}

import React, { useState } from 'react';
import { ErrorText } from '../common/Field.jsx';
import { useApi, useAuth, useLoad } from '../../state/store.jsx';

// Bar scales: the car_stats_validate ranges of the engine.
const RANGES = {
    top_speed: [5, 200],
    acceleration: [1, 100],
    grip: [0.2, 3],
    braking: [1, 150],
    nitro_capacity: [0, 10],
    nitro_duration: [0, 600],
    handling: [0.3, 6],
    weight: [300, 3000],
};

export function barShare(stat, v) {
    const [lo, hi] = RANGES[stat] ?? [0, 1];
    return Math.max(0, Math.min(1, (v - lo) / (hi - lo)));
}

function StatRow({ car, stat, upgrades, onUpgrade, busy }) {
    const v = car.stats[stat];
    const level = car.levels?.[stat] ?? 0;
    const info = upgrades?.[stat];
    const cost = car.next_costs?.[stat];
    // docs/API.md: next_values[stat] is the value after the next level (null at max).
    const nv = car.next_values?.[stat];
    const next = typeof nv === 'number' ? nv : null;
    const delta = next !== null ? Math.round((next - v) * 1000) / 1000 : null;
    return (
        <tr>
            <td title={info?.description}>{info?.name ?? stat.replace('_', ' ')}</td>
            <td>
                <span className="bar" title={`${v}`}>
                    <div style={{ width: `${barShare(stat, v) * 100}%` }} />
                </span>
                {next !== null && (
                    <span className="bar" style={{ width: 60, marginLeft: 4 }} title={`next: ${next}`}>
                        <div
                            className="next"
                            style={{
                                width: `${Math.min(100, (Math.abs(delta) / (RANGES[stat][1] - RANGES[stat][0])) * 600)}%`,
                            }}
                        />
                    </span>
                )}
            </td>
            <td>{Number(v.toFixed ? v.toFixed(2) : v)}</td>
            <td>
                {level}/{info?.max_level ?? '?'}
            </td>
            <td className="muted">
                {next !== null ? `→ ${Number(next.toFixed(2))} (${delta > 0 ? '+' : ''}${delta})` : 'max'}
            </td>
            <td>
                {cost !== null && cost !== undefined ? (
                    <button
                        disabled={busy}
                        onClick={() => onUpgrade(car.id, stat)}
                        data-testid={`upgrade-${car.id}-${stat}`}
                    >
                        Upgrade · {cost} pts
                    </button>
                ) : (
                    <span className="muted">max level</span>
                )}
            </td>
        </tr>
    );
}

export default function GaragePage() {
    const api = useApi();
    const { dispatch } = useAuth();
    const g = useLoad(() => api.garage(), []);
    const [busy, setBusy] = useState(false);
    const [error, setError] = useState(null);
    const [msg, setMsg] = useState(null);

    async function act(fn, done) {
        setBusy(true);
        setError(null);
        setMsg(null);
        try {
            const r = await fn();
            if (typeof r.points === 'number') dispatch({ type: 'auth/points', points: r.points });
            setMsg(done);
            g.reload();
        } catch (e) {
            setError(e.code === 'not_enough_points' ? new Error('Not enough points') : e);
        } finally {
            setBusy(false);
        }
    }

    if (g.error)
        return (
            <div className="page">
                <ErrorText error={g.error} />
            </div>
        );
    if (!g.data) return <div className="page muted">Loading garage…</div>;
    const { cars, car_types: types = [], upgrades, points } = g.data;
    return (
        <div className="page">
            <h1>
                Garage{' '}
                <span className="pill" data-testid="points">
                    {points} points
                </span>
            </h1>
            <ErrorText error={error} />
            {msg && (
                <div className="ok" data-testid="garage-msg">
                    {msg}
                </div>
            )}
            {cars.map((car) => (
                <div className="card" key={car.id} data-testid={`car-${car.id}`}>
                    <h3>
                        {car.name} <span className="muted">({car.car_type})</span>
                    </h3>
                    <table>
                        <thead>
                            <tr>
                                <th>stat</th>
                                <th>now / next level</th>
                                <th>value</th>
                                <th>level</th>
                                <th>next</th>
                                <th />
                            </tr>
                        </thead>
                        <tbody>
                            {Object.keys(car.stats).map((s) => (
                                <StatRow
                                    key={s}
                                    car={car}
                                    stat={s}
                                    upgrades={upgrades}
                                    busy={busy}
                                    onUpgrade={(id, stat) => act(() => api.upgrade(id, stat), `Upgraded ${stat}`)}
                                />
                            ))}
                        </tbody>
                    </table>
                </div>
            ))}
            <div className="card">
                <h3>Car types</h3>
                <table>
                    <tbody>
                        {types.map((t) => (
                            <tr key={t.car_type}>
                                <td>
                                    <b>{t.name}</b>
                                </td>
                                <td className="muted">{t.description}</td>
                                <td>{t.price} pts</td>
                                <td>
                                    {t.owned ? (
                                        <span className="ok">owned</span>
                                    ) : (
                                        <button
                                            disabled={busy || points < t.price}
                                            onClick={() => act(() => api.unlock(t.car_type), `Unlocked ${t.name}`)}
                                        >
                                            Unlock
                                        </button>
                                    )}
                                </td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            </div>
        </div>
    );
}

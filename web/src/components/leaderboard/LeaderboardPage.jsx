import React from 'react';
import { ErrorText } from '../common/Field.jsx';
import { useApi, useLoad } from '../../state/store.jsx';

export default function LeaderboardPage() {
    const api = useApi();
    const players = useLoad(() => api.players(50), []);
    const bots = useLoad(() => api.botRatings(50), []);
    return (
        <div className="page row">
            <div className="card grow">
                <h2>Players by points</h2>
                <ErrorText error={players.error} />
                <table data-testid="players-table">
                    <thead>
                        <tr>
                            <th>#</th>
                            <th>player</th>
                            <th>points</th>
                            <th>races</th>
                            <th>wins</th>
                        </tr>
                    </thead>
                    <tbody>
                        {(players.data?.players ?? []).map((p) => (
                            <tr key={p.username}>
                                <td>{p.rank}</td>
                                <td>{p.username}</td>
                                <td>{p.points}</td>
                                <td>{p.races}</td>
                                <td>{p.wins}</td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            </div>
            <div className="card grow">
                <h2>Bots by rating</h2>
                {bots.error ? (
                    <p className="muted">Bot ratings are not available yet ({bots.error.message}).</p>
                ) : (
                    <table data-testid="bots-table">
                        <thead>
                            <tr>
                                <th>#</th>
                                <th>bot</th>
                                <th>version</th>
                                <th>owner</th>
                                <th>rating</th>
                                <th>races</th>
                            </tr>
                        </thead>
                        <tbody>
                            {(bots.data?.bots ?? []).map((b, i) => (
                                <tr key={`${b.bot_id}-${b.version}`}>
                                    <td>{b.rank ?? i + 1}</td>
                                    <td>{b.name}</td>
                                    <td>{b.version}</td>
                                    <td>{b.owner ?? b.username}</td>
                                    <td>{Number(b.rating).toFixed(1)}</td>
                                    <td>{b.races}</td>
                                </tr>
                            ))}
                        </tbody>
                    </table>
                )}
            </div>
        </div>
    );
}

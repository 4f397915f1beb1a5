import React from 'react';
import { formatTime } from '../../game/renderer.js';

export default function Results({ results, raceId }) {
    return (
        <div className="card" data-testid="results">
            <h3>Results</h3>
            <table>
                <thead>
                    <tr>
                        <th>#</th>
                        <th>driver</th>
                        <th>time</th>
                        <th>pts</th>
                    </tr>
                </thead>
                <tbody>
                    {results.map((r, i) => (
                        <tr key={i}>
                            <td>{r.position}</td>
                            <td>{r.user?.username ?? r.user ?? r.name ?? (r.bot_id ? `bot ${r.bot_id}` : 'AI')}</td>
                            <td>{r.dnf ? 'DNF' : formatTime(r.time ?? r.time_s)}</td>
                            <td>{r.points ?? 0}</td>
                        </tr>
                    ))}
                </tbody>
            </table>
            {raceId && (
                <p>
                    <a href={`#/replay/${raceId}`}>Watch the replay</a>
                </p>
            )}
        </div>
    );
}

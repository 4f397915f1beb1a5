import React from 'react';
import { useApi, useAuth, useWs } from '../../state/store.jsx';
import { go } from '../../router.js';

export default function Nav({ route }) {
    const { auth, dispatch } = useAuth();
    const api = useApi();
    const ws = useWs();
    const [wsStatus, setWsStatus] = React.useState(ws.status);
    React.useEffect(() => ws.on('status', (e) => setWsStatus(e.status)), [ws]);
    const link = (name, label) => (
        <a href={`#/${name}`} className={route.name === name ? 'active' : ''}>
            {label}
        </a>
    );
    async function logout() {
        try {
            await api.logout();
        } catch {
            /* the session may already be gone */
        }
        dispatch({ type: 'auth/loggedOut' });
        go('/login');
    }
    return (
        <nav className="nav">
            <span className="brand">CodeRally</span>
            {link('lobby', 'Lobby')}
            {link('garage', 'Garage')}
            {link('bots', 'Bots')}
            {link('leaderboard', 'Leaderboard')}
            {link('replays', 'Replays')}
            <span className="spacer" />
            <span className="pill" title="live connection">
                {wsStatus}
            </span>
            {auth.status === 'in' ? (
                <>
                    <span data-testid="nav-user">
                        {auth.user.username} · {auth.user.points ?? 0} pts
                    </span>
                    <button className="secondary" onClick={logout}>
                        Log out
                    </button>
                </>
            ) : (
                <>
                    {link('login', 'Log in')}
                    {link('register', 'Register')}
                </>
            )}
        </nav>
    );
}

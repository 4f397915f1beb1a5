import React, { Suspense, lazy } from 'react';
import { AppProvider, useAuth } from './state/store.jsx';
import { useRoute } from './router.js';
import Nav from './components/common/Nav.jsx';
import AuthPage from './components/auth/AuthPage.jsx';
import LobbyPage from './components/lobby/LobbyPage.jsx';
import GaragePage from './components/garage/GaragePage.jsx';
import LeaderboardPage from './components/leaderboard/LeaderboardPage.jsx';
import RacePage from './components/race/RacePage.jsx';
import ReplayPage from './components/race/ReplayPage.jsx';
import DemoPage from './components/race/DemoPage.jsx';

// The editor page pulls Monaco: load it only when opened.
const BotsPage = lazy(() => import('./editor/BotsPage.jsx'));

function NeedLogin({ children }) {
    const { auth } = useAuth();
    if (auth.status === 'unknown') return <div className="page muted">…</div>;
    if (auth.status !== 'in') return <AuthPage mode="login" />;
    return children;
}

function Page({ route }) {
    const [a0] = route.args;
    switch (route.name) {
        case 'login':
            return <AuthPage mode="login" />;
        case 'register':
            return <AuthPage mode="register" />;
        case 'garage':
            return (
                <NeedLogin>
                    <GaragePage />
                </NeedLogin>
            );
        case 'bots':
            return (
                <NeedLogin>
                    <Suspense fallback={<div className="page muted">Loading the editor…</div>}>
                        <BotsPage botId={a0} />
                    </Suspense>
                </NeedLogin>
            );
        case 'leaderboard':
            return <LeaderboardPage />;
        case 'race':
            return <RacePage key={a0} raceId={a0} query={route.query} />;
        case 'replay':
        case 'replays':
            return <ReplayPage key={`${a0}-${route.query.ghost}`} raceId={a0} query={route.query} />;
        case 'demo':
            return <DemoPage query={route.query} />;
        case 'lobby':
        case 'home':
        default:
            return <LobbyPage />;
    }
}

export default function App() {
    const route = useRoute();
    return (
        <AppProvider>
            <Nav route={route} />
            <Page route={route} />
        </AppProvider>
    );
}

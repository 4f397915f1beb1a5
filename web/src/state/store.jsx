// store.jsx - the app's contexts: the REST client, the logged-in user (auth
// reducer) and the one WebSocket manager, created once and shared.
import React, { createContext, useContext, useEffect, useMemo, useReducer } from 'react';
import { api as defaultApi } from '../services/api.js';
import { WsManager } from '../services/websocket.js';
import { authReducer, initialAuth } from './reducers.js';

const ApiContext = createContext(defaultApi);
const AuthContext = createContext(null);
const WsContext = createContext(null);

export function AppProvider({ children, api = defaultApi }) {
    const [auth, dispatch] = useReducer(authReducer, initialAuth);
    const ws = useMemo(() => new WsManager(), []);
    useEffect(() => {
        let live = true;
        api.me()
            .then(
                (r) =>
                    live &&
                    dispatch(r && r.user ? { type: 'auth/loggedIn', user: r.user } : { type: 'auth/loggedOut' }),
            )
            .catch(() => live && dispatch({ type: 'auth/loggedOut' }));
        return () => {
            live = false;
        };
    }, [api]);
    useEffect(() => {
        // The socket identifies us by the session cookie, so (re)open it when the user changes.
        if (auth.status === 'unknown') return undefined;
        ws.close();
        ws.open();
        return () => ws.close();
    }, [ws, auth.status, auth.user?.id]);
    return (
        <ApiContext.Provider value={api}>
            <AuthContext.Provider value={{ auth, dispatch }}>
                <WsContext.Provider value={ws}>{children}</WsContext.Provider>
            </AuthContext.Provider>
        </ApiContext.Provider>
    );
}

export const useApi = () => useContext(ApiContext);
export const useAuth = () => useContext(AuthContext);
export const useWs = () => useContext(WsContext);

/** Loads data with fn() whenever deps change: { data, error, loading, reload }. */
export function useLoad(fn, deps) {
    const [state, set] = React.useState({ data: null, error: null, loading: true });
    const [n, setN] = React.useState(0);
    useEffect(() => {
        let live = true;
        set((s) => ({ ...s, loading: true }));
        fn()
            .then((data) => live && set({ data, error: null, loading: false }))
            .catch((error) => live && set({ data: null, error, loading: false }));
        return () => {
            live = false;
        };
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [...deps, n]);
    return { ...state, reload: () => setN((x) => x + 1) };
}

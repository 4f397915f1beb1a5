// router.js - hash routes (#/lobby, #/race/abc, ...): the server serves one
// index.html and needs no route table of its own.
import { useEffect, useState } from 'react';

export function parseRoute(hash) {
    const path = (hash || '').replace(/^#/, '') || '/';
    const [p, query = ''] = path.split('?');
    const parts = p.split('/').filter(Boolean);
    return {
        name: parts[0] || 'home',
        args: parts.slice(1).map(decodeURIComponent),
        query: Object.fromEntries(new URLSearchParams(query)),
    };
}

export function useRoute() {
    const [route, setRoute] = useState(() => parseRoute(window.location.hash));
    useEffect(() => {
        const f = () => setRoute(parseRoute(window.location.hash));
        window.addEventListener('hashchange', f);
        return () => window.removeEventListener('hashchange', f);
    }, []);
    return route;
}

export function go(path) {
    window.location.hash = path;
}

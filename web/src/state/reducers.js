// reducers.js - the client's state as pure reducers (Context + useReducer in
// state/store.jsx): who is logged in, the room and race being watched, the
// bot being edited. Each action is a plain object; nothing here talks to the
// network.

export const initialAuth = { status: 'unknown', user: null, errors: {}, pending: false };

export function authReducer(state, action) {
    switch (action.type) {
        case 'auth/pending':
            return { ...state, pending: true, errors: {} };
        case 'auth/loggedIn':
            return { status: 'in', user: action.user, errors: {}, pending: false };
        case 'auth/loggedOut':
            return { ...initialAuth, status: 'out' };
        case 'auth/failed': {
            // An error belongs next to the field it names; otherwise to the form.
            const key = action.field || 'form';
            return { ...state, pending: false, errors: { [key]: action.message } };
        }
        case 'auth/points':
            return state.user ? { ...state, user: { ...state.user, points: action.points } } : state;
        default:
            return state;
    }
}

export const NOTICES_MAX = 20;

export const initialRace = {
    raceId: null,
    role: null,
    lobby: null,
    stage: null,
    countdown: null,
    startTick: null,
    results: null,
    status: 'idle',
    error: null,
    notices: [],
    lastTick: null,
    connection: 'closed',
    myCarIndex: null,
};

export function raceReducer(state, action) {
    switch (action.type) {
        case 'race/join':
            return {
                ...initialRace,
                connection: state.connection,
                raceId: action.raceId,
                role: action.role,
                status: 'joining',
            };
        case 'race/leave':
            return { ...initialRace, connection: state.connection };
        case 'race/connection':
            return { ...state, connection: action.status };
        case 'race/lobby': {
            const m = action.msg;
            if (state.raceId && m.race_id !== state.raceId) return state;
            const status = m.state === 'open' ? 'lobby' : m.state;
            return { ...state, lobby: m, status: state.status === 'finished' ? 'finished' : status };
        }
        case 'race/stage':
            return { ...state, stage: action.stage };
        case 'race/start':
            return {
                ...state,
                status: 'countdown',
                countdown: action.msg.countdown,
                startTick: action.msg.tick ?? null,
            };
        case 'race/tick': {
            if (state.lastTick !== null && action.tick <= state.lastTick) return state;
            const phase = action.phase;
            const status = phase === 'running' && state.status !== 'finished' ? 'running' : state.status;
            return { ...state, lastTick: action.tick, status };
        }
        case 'race/end':
            return { ...state, status: 'finished', results: action.msg.results };
        case 'race/error':
            return { ...state, error: action.message };
        case 'race/notice': {
            if (state.raceId && action.msg.race_id !== state.raceId) return state;
            // The newest few only: a chatty lobby.lua must not grow the page.
            return { ...state, notices: [...state.notices, action.msg.text].slice(-NOTICES_MAX) };
        }
        case 'race/clearError':
            return { ...state, error: null };
        default:
            return state;
    }
}

export const initialEditor = {
    botId: null,
    name: '',
    code: '',
    version: null,
    problems: [],
    dirty: false,
    saving: false,
    message: null,
    versions: [],
};

export function editorReducer(state, action) {
    switch (action.type) {
        case 'editor/load':
            return {
                ...initialEditor,
                botId: action.bot.id ?? null,
                name: action.bot.name ?? '',
                code: action.bot.code ?? '',
                version: action.bot.version ?? null,
                versions: state.botId === action.bot.id ? state.versions : [],
            };
        case 'editor/template':
            return { ...initialEditor, name: action.name, code: action.code, dirty: true };
        case 'editor/edit':
            return { ...state, code: action.code, dirty: true };
        case 'editor/rename':
            return { ...state, name: action.name, dirty: true };
        case 'editor/saving':
            return { ...state, saving: true, message: null };
        case 'editor/saved':
            return {
                ...state,
                saving: false,
                dirty: false,
                problems: [],
                botId: action.bot.id,
                version: action.bot.version,
                message: `Saved version ${action.bot.version}`,
            };
        case 'editor/rejected':
            return { ...state, saving: false, problems: action.problems, message: action.message };
        case 'editor/versions':
            return { ...state, versions: action.versions };
        default:
            return state;
    }
}

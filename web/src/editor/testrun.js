// testrun.js - the editor's test run as a pure reducer: the room it made, the
// bot's car in it, and what the server tells the bot's owner about that car
// (bot_log, bot_error, bot_draw; docs/API.md): the log (capped), the errors
// by index with their line, tick and cause, and the latest drawings. Plus
// the errors as editor problems, so they become Monaco markers like `bot
// check`'s. No React, no network.

export const LOG_MAX_LINES = 500;

export const initialTestRun = {
    raceId: null,
    status: 'idle', // idle | creating | joining | lobby | countdown | running | finished | failed
    carIndex: null,
    log: [], // [{ n, text }]; n numbers lines over the whole run
    logTotal: 0,
    dropped: 0, // lines the server left out over its byte cap (the log here keeps the last LOG_MAX_LINES)
    errors: [], // [{ index, tick, line, cause, message, count }] by index
    drawings: [],
    drawTick: null,
    results: null,
    error: null,
};

/** The car a race_start gives my bot: mine by user, driven by a bot. */
export function myBotCar(raceStart, userId) {
    const c = (raceStart?.cars ?? []).find((x) => x.kind === 'bot' && x.user && (x.user.id ?? x.user) === userId);
    return c ? c.id : null;
}

function forMe(state, m) {
    return state.raceId !== null && (state.carIndex === null || m.car === state.carIndex);
}

export function testRunReducer(state, action) {
    switch (action.type) {
        case 'testrun/creating':
            return { ...initialTestRun, status: 'creating' };
        case 'testrun/created':
            return { ...state, raceId: action.raceId, status: 'joining' };
        case 'testrun/failed':
            return { ...state, status: 'failed', error: action.message };
        case 'testrun/lobby': {
            const m = action.msg;
            if (m.race_id !== state.raceId || state.status === 'finished') return state;
            const status = m.state === 'open' ? 'lobby' : m.state;
            return { ...state, status };
        }
        case 'testrun/start':
            return {
                ...state,
                status: 'countdown',
                carIndex: myBotCar(action.msg, action.userId) ?? state.carIndex,
            };
        case 'testrun/tick':
            if (action.phase === 'running' && (state.status === 'countdown' || state.status === 'lobby'))
                return { ...state, status: 'running' };
            return state;
        case 'testrun/end':
            return { ...state, status: 'finished', results: action.msg.results ?? null };
        case 'testrun/log': {
            const m = action.msg;
            if (!forMe(state, m)) return state;
            let n = state.logTotal;
            const added = m.lines.map((text) => ({ n: ++n, text }));
            const all = state.log.concat(added);
            const cut = Math.max(0, all.length - LOG_MAX_LINES);
            return {
                ...state,
                log: cut ? all.slice(cut) : all,
                logTotal: n,
                dropped: state.dropped + (m.dropped ?? 0),
            };
        }
        case 'testrun/error': {
            const m = action.msg;
            if (!forMe(state, m)) return state;
            const e = {
                index: m.index,
                tick: m.tick,
                line: m.line,
                cause: m.cause,
                message: m.message,
                count: m.count,
            };
            const at = state.errors.findIndex((x) => x.index === m.index);
            const errors = at >= 0 ? state.errors.map((x, i) => (i === at ? e : x)) : [...state.errors, e];
            errors.sort((a, b) => a.index - b.index);
            return { ...state, errors };
        }
        case 'testrun/draw': {
            const m = action.msg;
            if (!forMe(state, m) || (state.drawTick !== null && m.tick < state.drawTick)) return state;
            return { ...state, drawings: m.drawings, drawTick: m.tick };
        }
        case 'testrun/reset':
            return initialTestRun;
        default:
            return state;
    }
}

/** The run's errors as editor problems ({line, message}) for Monaco markers. */
export function errorsToProblems(errors) {
    return (errors ?? [])
        .filter((e) => Number.isInteger(e.line))
        .map((e) => ({
            line: e.line,
            message: `${e.cause} (test run, tick ${e.tick ?? 'load'}${e.count > 1 ? `, ${e.count}×` : ''})`,
        }));
}

/** "tick 240 · line 12 · ZeroDivisionError: ..." for the errors list. */
export function describeError(e) {
    const parts = [e.tick === null || e.tick === undefined ? 'at load' : `tick ${e.tick}`];
    if (Number.isInteger(e.line)) parts.push(`line ${e.line}`);
    parts.push(e.cause || e.message);
    return parts.join(' · ') + (e.count > 1 ? ` (${e.count}×)` : '');
}

import React, { Suspense, lazy, useReducer, useState } from 'react';
import { TEMPLATES } from './templates.js';
import { editorReducer, initialEditor } from '../state/reducers.js';
import { useApi, useLoad } from '../state/store.jsx';
import { ErrorText } from '../components/common/Field.jsx';
import { go } from '../router.js';
import TestRunPanel from './TestRunPanel.jsx';

const BotEditor = lazy(() => import('./BotEditor.jsx'));
const NO_PROBLEMS = [];

export default function BotsPage({ botId }) {
    const api = useApi();
    const [st, dispatch] = useReducer(editorReducer, initialEditor);
    const bots = useLoad(() => api.bots(), []);
    const gens = useLoad(() => api.generators(), []);
    const [error, setError] = useState(null);
    const [reveal, setReveal] = useState(null);
    const [run, setRun] = useState({ generator: '', seed: 1, ai: 3 });
    const [runRequest, setRunRequest] = useState(null);
    const [runProblems, setRunProblems] = useState(NO_PROBLEMS);

    React.useEffect(() => {
        if (!botId) {
            if (!st.code && TEMPLATES[0])
                dispatch({ type: 'editor/template', name: TEMPLATES[0].name, code: TEMPLATES[0].code });
            return;
        }
        api.bot(botId)
            .then((r) => dispatch({ type: 'editor/load', bot: r.bot }))
            .catch(setError);
        api.botVersions(botId)
            .then((r) => dispatch({ type: 'editor/versions', versions: r.versions }))
            .catch(() => {});
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [api, botId]);

    async function save() {
        setError(null);
        dispatch({ type: 'editor/saving' });
        try {
            const r = st.botId
                ? await api.saveBot(st.botId, st.code, st.name)
                : await api.createBot(st.name || 'my bot', st.code);
            dispatch({ type: 'editor/saved', bot: r.bot });
            bots.reload();
            if (!st.botId) go(`/bots/${r.bot.id}`);
            else api.botVersions(r.bot.id).then((v) => dispatch({ type: 'editor/versions', versions: v.versions }));
        } catch (e) {
            if (e.code === 'bot_rejected')
                dispatch({ type: 'editor/rejected', problems: e.problems, message: e.message });
            else {
                dispatch({ type: 'editor/rejected', problems: [], message: null });
                setError(e);
            }
        }
    }

    async function loadVersion(n) {
        try {
            const r = await api.botVersion(st.botId, n);
            dispatch({ type: 'editor/edit', code: r.version.code });
        } catch (e) {
            setError(e);
        }
    }

    // The test run stays beside the editor (TestRunPanel): a new request
    // starts a new race, and the last run's errors are its markers.
    function testRun() {
        setError(null);
        const generator = run.generator || gens.data?.generators?.find((g) => !g.error)?.name;
        setRunProblems(NO_PROBLEMS);
        setRunRequest({
            botId: st.botId,
            generator,
            seed: Number(run.seed) || 0,
            ai: Math.max(0, Math.min(7, Number(run.ai) || 0)),
            n: (runRequest?.n ?? 0) + 1,
        });
    }

    return (
        <div className="page editor-layout">
            <div className="side">
                <div className="card">
                    <h3>My bots</h3>
                    <ul>
                        {(bots.data?.bots ?? []).map((b) => (
                            <li key={b.id}>
                                <a href={`#/bots/${b.id}`}>{b.name}</a> <span className="muted">v{b.version}</span>
                            </li>
                        ))}
                    </ul>
                    <button className="secondary" onClick={() => go('/bots')}>
                        New bot
                    </button>
                </div>
                <div className="card">
                    <h3>Starter templates</h3>
                    {TEMPLATES.map((t) => (
                        <div key={t.name}>
                            <a
                                href="#/bots"
                                onClick={(e) => {
                                    e.preventDefault();
                                    dispatch({ type: 'editor/template', name: t.name, code: t.code });
                                }}
                            >
                                {t.name}
                            </a>
                            <div className="muted" style={{ fontSize: 12 }}>
                                {t.summary}
                            </div>
                        </div>
                    ))}
                </div>
                {st.botId && (
                    <div className="card">
                        <h3>Versions</h3>
                        <ul>
                            {st.versions.map((v) => (
                                <li key={v.version}>
                                    <a
                                        href="#"
                                        onClick={(e) => {
                                            e.preventDefault();
                                            loadVersion(v.version);
                                        }}
                                    >
                                        v{v.version}
                                    </a>{' '}
                                    <span className="muted">{new Date(v.created_at * 1000).toLocaleString()}</span>
                                </li>
                            ))}
                        </ul>
                    </div>
                )}
            </div>
            <div className="editor-main">
                <div className="row" style={{ marginBottom: 8, alignItems: 'center' }}>
                    <input
                        aria-label="bot name"
                        value={st.name}
                        onChange={(e) => dispatch({ type: 'editor/rename', name: e.target.value })}
                        placeholder="bot name"
                    />
                    <button onClick={save} disabled={st.saving} data-testid="save-bot">
                        {st.botId ? 'Save as new version' : 'Save bot'}
                    </button>
                    {st.version && <span className="pill">v{st.version}</span>}
                    {st.dirty && <span className="muted">unsaved</span>}
                    {st.message && (
                        <span className={st.problems.length ? 'form-error' : 'ok'} data-testid="editor-message">
                            {st.message}
                        </span>
                    )}
                </div>
                <ErrorText error={error} />
                <Suspense fallback={<div className="monaco-host muted">Loading the editor…</div>}>
                    <BotEditor
                        value={st.code}
                        onChange={(code) => dispatch({ type: 'editor/edit', code })}
                        problems={st.problems}
                        runProblems={runProblems}
                        revealLine={reveal}
                    />
                </Suspense>
                {st.problems.length > 0 && (
                    <ul className="problems" data-testid="problems">
                        {st.problems.map((p, i) => (
                            <li key={i} onClick={() => setReveal({ line: p.line, n: i })}>
                                line {p.line}: {p.message}
                            </li>
                        ))}
                    </ul>
                )}
            </div>
            <div className={runRequest ? 'side testrun-side' : 'side'}>
                {/* A running test leads the column; its settings follow. */}
                <TestRunPanel
                    request={runRequest}
                    onProblems={setRunProblems}
                    onReveal={(line) => setReveal({ line, n: Date.now() })}
                    onRerun={st.botId && !st.dirty ? testRun : null}
                    onClose={() => {
                        setRunRequest(null);
                        setRunProblems(NO_PROBLEMS);
                    }}
                />
                <div className="card">
                    <h3>{runRequest ? 'Another test run' : 'Test run'}</h3>
                    <div className="field">
                        <label htmlFor="tr-gen">Generator</label>
                        <select
                            id="tr-gen"
                            value={run.generator}
                            onChange={(e) => setRun({ ...run, generator: e.target.value })}
                        >
                            {(gens.data?.generators ?? [])
                                .filter((g) => !g.error)
                                .map((g) => (
                                    <option key={g.name} value={g.name}>
                                        {g.name}
                                    </option>
                                ))}
                        </select>
                    </div>
                    <div className="field">
                        <label htmlFor="tr-seed">Seed</label>
                        <input
                            id="tr-seed"
                            value={run.seed}
                            onChange={(e) => setRun({ ...run, seed: e.target.value.replace(/[^0-9]/g, '') })}
                        />
                    </div>
                    <div className="field">
                        <label htmlFor="tr-ai">AI drivers</label>
                        <input
                            id="tr-ai"
                            type="number"
                            min={0}
                            max={7}
                            value={run.ai}
                            onChange={(e) => setRun({ ...run, ai: e.target.value })}
                        />
                    </div>
                    <button disabled={!st.botId || st.dirty} onClick={testRun}>
                        Test run
                    </button>
                    {!st.botId && <p className="muted">Save the bot first.</p>}
                </div>
            </div>
        </div>
    );
}

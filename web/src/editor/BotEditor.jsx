// BotEditor.jsx - the Monaco wrapper: Python, dark theme, problems as markers
// (the sandbox's check on save, and the errors of the latest test run).
import React, { useEffect, useRef } from 'react';
import monaco from './monaco.js';
import { problemsToMarkers } from './debugger.js';

export default function BotEditor({ value, onChange, problems, runProblems, revealLine }) {
    const host = useRef(null);
    const ed = useRef(null);
    const change = useRef(onChange);
    change.current = onChange;
    useEffect(() => {
        const e = monaco.editor.create(host.current, {
            value,
            language: 'python',
            theme: 'vs-dark',
            automaticLayout: true,
            fontSize: 14,
            minimap: { enabled: false },
            scrollBeyondLastLine: false,
            tabSize: 4,
            insertSpaces: true,
        });
        ed.current = e;
        const sub = e.onDidChangeModelContent(() => change.current(e.getValue()));
        window.__coderally = window.__coderally || {};
        window.__coderally.editor = e;
        // For the e2e run: the markers on this model, by owner.
        window.__coderally.markers = () => monaco.editor.getModelMarkers({ resource: e.getModel().uri });
        return () => {
            sub.dispose();
            e.getModel()?.dispose();
            e.dispose();
        };
        // eslint-disable-next-line react-hooks/exhaustive-deps
    }, []);
    useEffect(() => {
        const e = ed.current;
        if (e && e.getValue() !== value) e.setValue(value);
    }, [value]);
    useEffect(() => {
        const e = ed.current;
        if (!e) return;
        monaco.editor.setModelMarkers(
            e.getModel(),
            'sandbox',
            problemsToMarkers(problems, e.getModel().getLineCount()),
        );
    }, [problems, value]);
    useEffect(() => {
        const e = ed.current;
        if (!e) return;
        const markers = problemsToMarkers(runProblems, e.getModel().getLineCount()).map((m) => ({
            ...m,
            source: 'test run',
        }));
        monaco.editor.setModelMarkers(e.getModel(), 'testrun', markers);
    }, [runProblems, value]);
    useEffect(() => {
        if (revealLine && ed.current) {
            ed.current.revealLineInCenter(revealLine.line);
            ed.current.setPosition({ lineNumber: revealLine.line, column: 1 });
            ed.current.focus();
        }
    }, [revealLine]);
    return <div ref={host} className="monaco-host" data-testid="monaco" />;
}

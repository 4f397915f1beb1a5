// debugger.js - the sandbox's verdicts in the editor: problems become Monaco
// markers on their lines, and bot log lines with a line number become
// clickable problems too.

/** Monaco marker data from server problems [{line, column?, message}]. */
export function problemsToMarkers(problems, lineCount) {
    return (problems ?? []).map((p) => {
        const line = Math.max(1, Math.min(lineCount || 1, Number.isInteger(p.line) ? p.line : 1));
        return {
            severity: 8, // monaco.MarkerSeverity.Error
            startLineNumber: line,
            endLineNumber: line,
            startColumn: Number.isInteger(p.column) ? p.column : 1,
            endColumn: 1000,
            message: p.message ?? String(p),
            source: 'sandbox',
        };
    });
}

/** "line 12: NameError ..." or "bot.py:12: ..." -> { line, message }, else null. */
export function parseErrorLine(text) {
    const m = /(?:line |\.py:)(\d+)[:,]?\s*(.*)$/i.exec(text);
    return m ? { line: Number(m[1]), message: m[2] || text } : null;
}

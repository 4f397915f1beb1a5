// templates.js - the starter bots, bundled at build time from
// botsandbox/templates/ (the same files `coderally bot` and the docs use), so
// the editor has them offline and they never drift from the repository's.

const files = import.meta.glob('../../../botsandbox/templates/*.py', { query: '?raw', import: 'default', eager: true });

export const TEMPLATES = Object.entries(files)
    .map(([path, code]) => {
        const file = path.split('/').pop();
        const name = file.replace(/\.py$/, '');
        const doc = /^"""([\s\S]*?)"""/m.exec(code) || /^#\s*(.+)$/m.exec(code);
        return { name, file, code, summary: doc ? doc[1].trim().split('\n')[0] : '' };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

// monaco.js - Monaco from the npm package, bundled (never a CDN): the editor
// API, its standard contributions, Python highlighting, and the editor worker
// as a Vite ?worker import. Loaded lazily, so it lands in its own chunk.
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/features/register.all.js';
import 'monaco-editor/languages/definitions/python/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

export default monaco;

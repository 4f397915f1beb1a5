import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Monaco is bundled from npm (never a CDN) and split into its own chunk so the
// lobby and the race view load without it.
export default defineConfig({
    plugins: [react()],
    build: {
        outDir: 'dist',
        emptyOutDir: true,
        chunkSizeWarningLimit: 4096,
        rollupOptions: {
            output: {
                manualChunks(id) {
                    // Vite's preload helper must not land in the Monaco chunk, or the
                    // entry would import (and preload) all of Monaco for it.
                    if (id.includes('preload-helper') || id.includes('commonjsHelpers')) return 'runtime';
                    if (id.includes('node_modules/monaco-editor')) return 'monaco';
                    if (id.includes('/src/wasm/')) return 'engine';
                    if (id.includes('node_modules/react')) return 'react';
                    return undefined;
                },
            },
        },
    },
    server: {
        proxy: {
            '/api': 'http://127.0.0.1:8000',
            '/ws': { target: 'ws://127.0.0.1:8000', ws: true },
        },
    },
    test: {
        include: ['test/**/*.test.js'],
        environment: 'node',
        testTimeout: 60000,
    },
});

// GameCanvas.jsx - the React shell around the plain renderer: one canvas
// sized to its box, one requestAnimationFrame loop that asks getFrame() for
// the cars to draw at this moment, moves the camera, records frame times
// (window.__coderally.frames) and draws.
import React, { useEffect, useRef } from 'react';
import { drawFrame, fitZoom, followCamera, SkidMarks } from './renderer.js';
import { FrameStats } from './framestats.js';
import { loadEngine } from './engine.js';
import { LiveRays } from './liverays.js';

export const frameStats = new FrameStats();
if (typeof window !== 'undefined') {
    window.__coderally = window.__coderally || {};
    window.__coderally.frames = frameStats;
}

/**
 * props: geo (renderer stageGeometry), getFrame(nowMs) -> { cars, myId, hud,
 * debug, minimap (default true) } or null, follow (bool), zoom (px per u
 * when following).
 */
export default function GameCanvas({ geo, getFrame, follow = true, zoom = 6, testId = 'race-canvas' }) {
    const ref = useRef(null);
    const props = useRef({});
    props.current = { geo, getFrame, follow, zoom };
    useEffect(() => {
        const canvas = ref.current;
        const ctx = canvas.getContext('2d', { alpha: false });
        const skids = new SkidMarks();
        let cam = null;
        let raf = 0;
        let last = performance.now();
        let stageSeen = null;
        frameStats.reset();
        function loop(now) {
            raf = requestAnimationFrame(loop);
            const t0 = performance.now();
            const { geo: g, getFrame: gf, follow: fol, zoom: z } = props.current;
            const dpr = window.devicePixelRatio || 1;
            const w = canvas.clientWidth;
            const h = canvas.clientHeight;
            if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
                canvas.width = Math.round(w * dpr);
                canvas.height = Math.round(h * dpr);
            }
            if (g !== stageSeen) {
                skids.clear();
                stageSeen = g;
                cam = null;
            }
            const f = g && gf ? gf(now) : null;
            const cars = f?.cars ?? [];
            if (g && !cam) {
                const b = g.bounds;
                cam = { x: (b.minX + b.maxX) / 2, y: (b.minY + b.maxY) / 2, zoom: fitZoom(b, w, h) };
            }
            const me =
                cars.find((c) => c.id === f?.myId) ??
                (f?.focus !== undefined ? cars.find((c) => c.id === f.focus) : null);
            if (cam && fol && me) cam = followCamera(cam, me, now - last, { zoom: z });
            skids.update(cars);
            const scaled = cam ? { ...cam, zoom: cam.zoom * dpr } : null;
            drawFrame(ctx, canvas.width, canvas.height, {
                geo: g,
                cars,
                myId: f?.myId,
                cam: scaled,
                hud: f?.hud,
                skids,
                debug: f?.debug ?? null,
                minimap: f?.minimap ?? true,
            });
            frameStats.frame(now, performance.now() - t0);
            // For the e2e run: what the last frame showed, and when.
            window.__coderally.lastFrame = { t: now, drawnAt: performance.now(), cars, myId: f?.myId };
            last = now;
        }
        raf = requestAnimationFrame(loop);
        return () => cancelAnimationFrame(raf);
    }, []);
    return <canvas ref={ref} className="race-canvas" data-testid={testId} tabIndex={0} />;
}

/**
 * The live debug overlay's ray casts (liverays.js) while on is true: a ref
 * whose current is a LiveRays for geometry once the engine has loaded, or
 * null. A page without the engine just draws no rays.
 */
export function useLiveRays(geometry, on) {
    const ref = useRef(null);
    useEffect(() => {
        if (!geometry || !on) return undefined;
        let alive = true;
        let lr = null;
        loadEngine()
            .then((e) => {
                if (!alive) return;
                lr = new LiveRays(e, geometry, 8);
                ref.current = lr;
            })
            .catch(() => {});
        return () => {
            alive = false;
            ref.current = null;
            if (lr) lr.destroy();
        };
    }, [geometry, on]);
    return ref;
}

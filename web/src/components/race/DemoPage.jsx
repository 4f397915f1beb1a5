import React, { useEffect, useMemo, useRef, useState } from 'react';
import GameCanvas from '../../game/GameCanvas.jsx';
import { loadEngine } from '../../game/engine.js';
import { DemoRace } from '../../game/demo.js';
import { stageGeometry } from '../../game/renderer.js';
import { KeyboardInput } from '../../game/input.js';
import { hudFor, SplitClock } from '../../game/hud.js';
import { ErrorText } from '../common/Field.jsx';

/** Offline race on a built-in stage: keyboard car 0 against seven AI cars. */
export default function DemoPage({ query }) {
    const [demo, setDemo] = useState(null);
    const [error, setError] = useState(null);
    const [debug, setDebug] = useState(query.debug !== '0');
    const splits = useRef(new SplitClock());
    const cars = Math.min(16, Math.max(1, Number(query.cars) || 8));
    const countdownTicks = query.countdown !== undefined ? Math.max(0, Number(query.countdown) * 60 || 0) : 180;
    useEffect(() => {
        let d = null;
        let live = true;
        loadEngine()
            .then((e) => {
                if (live) {
                    d = new DemoRace(e, { cars, countdownTicks });
                    setDemo(d);
                }
            })
            .catch(setError);
        return () => {
            live = false;
            if (d) d.destroy();
        };
    }, [cars, countdownTicks]);
    useEffect(() => {
        if (!demo) return undefined;
        const k = new KeyboardInput(window, (a) => {
            demo.keyboard = a;
        }).attach();
        return () => k.detach();
    }, [demo]);
    const geo = useMemo(() => (demo ? stageGeometry(demo.geometry) : null), [demo]);
    const getFrame = (now) => {
        demo.update(now);
        const s = demo.buffer.sample(now);
        if (!s) return null;
        // Car 0 is drawn where the engine has it now (it is local: no delay).
        const me = demo.race.snapshot().cars[0];
        const cars = s.cars.map((c) => (c.id === 0 ? { ...c, ...me, id: 0 } : c));
        const dbg = debug ? { rays: demo.sensors, drawings: [] } : null;
        return {
            cars,
            myId: 0,
            debug: dbg,
            hud: hudFor(cars[0], s.race_info, geo, splits.current, { cars: cars.length }),
        };
    };
    return (
        <div className="page">
            <ErrorText error={error} />
            <div className="row" style={{ marginBottom: 8 }}>
                <b>Practice (offline)</b>
                <label>
                    <input type="checkbox" checked={debug} onChange={(e) => setDebug(e.target.checked)} /> debug overlay
                </label>
                <span className="muted">arrows/WASD drive · space handbrake · shift nitro</span>
            </div>
            {demo && geo ? <GameCanvas geo={geo} getFrame={getFrame} /> : <p className="muted">Loading the engine…</p>}
        </div>
    );
}

// framestats.js - frame-time recorder for the race view: keeps the last N
// frame intervals and reports p50/p95/max and FPS. The e2e run reads it from
// window.__coderally.frames to check the 60 FPS target.

export function percentile(sorted, p) {
    if (!sorted.length) return null;
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[i];
}

export class FrameStats {
    constructor(capacity = 1200) {
        this.capacity = capacity;
        this.intervals = new Float64Array(capacity);
        this.work = new Float64Array(capacity);
        this.n = 0;
        this.head = 0;
        this.last = null;
    }
    /** Call at the start of each frame with its timestamp and after drawing with the time spent. */
    frame(nowMs, workMs = 0) {
        if (this.last !== null) {
            this.intervals[this.head] = nowMs - this.last;
            this.work[this.head] = workMs;
            this.head = (this.head + 1) % this.capacity;
            this.n = Math.min(this.capacity, this.n + 1);
        }
        this.last = nowMs;
    }
    reset() {
        this.n = 0;
        this.head = 0;
        this.last = null;
    }
    summary() {
        const iv = Array.from(this.intervals.subarray(0, this.n)).sort((a, b) => a - b);
        const wk = Array.from(this.work.subarray(0, this.n)).sort((a, b) => a - b);
        const mean = iv.length ? iv.reduce((s, v) => s + v, 0) / iv.length : null;
        return {
            frames: this.n,
            p50: percentile(iv, 50),
            p95: percentile(iv, 95),
            max: iv.length ? iv[iv.length - 1] : null,
            fps: mean ? 1000 / mean : null,
            workP50: percentile(wk, 50),
            workP95: percentile(wk, 95),
        };
    }
}

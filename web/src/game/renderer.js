// renderer.js - the race view on a Canvas 2D: stage (surfaces, verge, edges,
// checkpoints with the next one highlighted, start grid, finish), cars with
// heading, skid marks and nitro flames, a minimap, the HUD, the countdown,
// and a debug overlay (vision cones, velocity vectors, ray casts, the bot's
// own drawings). Plain module, no React: the geometry functions at the top
// are pure and tested; draw() is called once per animation frame.

export const SURFACE_COLOURS = {
    asphalt: '#4a4d55',
    gravel: '#a88a5c',
    ice: '#cfe8f5',
    offroad: '#2f5a2a',
};
export const CAR_COLOURS = [
    '#e63946',
    '#2a9df4',
    '#f4d35e',
    '#6a4c93',
    '#ff8c42',
    '#17c3b2',
    '#ff5d8f',
    '#9be564',
    '#ffffff',
    '#8d99ae',
    '#e07a5f',
    '#3d405b',
    '#81b29a',
    '#f2cc8f',
    '#118ab2',
    '#ef476f',
];
export const FLAG = { sliding: 1, nitro: 2, offroad: 4, finished: 8, dnf: 16, braking: 32 };
export const CAR_LENGTH = 4.2;
export const CAR_WIDTH = 2.0;
export const VERGE = 5.0; // CR_VERGE
export const VISION_RANGE = 120; // SENSOR_VISION_RANGE
export const VISION_HALF_ANGLE = 1.3962634015954636;
export const RAY_ANGLES = [
    -1.5707963, -1.0471976, -0.5235988, -0.2617994, 0, 0.2617994, 0.5235988, 1.0471976, 1.5707963,
];
const SURFACE_NAMES = ['asphalt', 'gravel', 'ice', 'offroad'];

/* ---- geometry (pure) ---------------------------------------------------- */

/** Offsets of a polyline: the points half-width to the left and right of each centre point. */
export function edgesFromCentre(centre, widths, extra = 0) {
    const n = centre.length;
    const left = [];
    const right = [];
    for (let i = 0; i < n; i++) {
        const [x0, y0] = centre[Math.max(0, i - 1)];
        const [x1, y1] = centre[Math.min(n - 1, i + 1)];
        let dx = x1 - x0;
        let dy = y1 - y0;
        const len = Math.hypot(dx, dy) || 1;
        dx /= len;
        dy /= len;
        const h = (Array.isArray(widths) ? widths[i] : widths) / 2 + extra;
        const [x, y] = centre[i];
        left.push([x - dy * h, y + dx * h]);
        right.push([x + dy * h, y - dx * h]);
    }
    return { left, right };
}

/** Bounding box {minX, minY, maxX, maxY} of point lists. */
export function bounds(...lists) {
    let minX = Infinity,
        minY = Infinity,
        maxX = -Infinity,
        maxY = -Infinity;
    for (const l of lists)
        for (const [x, y] of l) {
            if (x < minX) minX = x;
            if (x > maxX) maxX = x;
            if (y < minY) minY = y;
            if (y > maxY) maxY = y;
        }
    return { minX, minY, maxX, maxY };
}

/**
 * The renderer's view of a stage from the server's geometry JSON (docs/API.md
 * "GET /api/stages/{generator}") or from centre points with widths.
 */
export function stageGeometry(s) {
    const centre = s.centre;
    if (!Array.isArray(centre) || centre.length < 2) throw new Error('stage: needs at least 2 centre points');
    const width = s.width ?? centre.map(() => 10);
    const edges = s.left && s.right ? { left: s.left, right: s.right } : edgesFromCentre(centre, width);
    const walls = s.walls?.left && s.walls?.right ? s.walls : edgesFromCentre(centre, width, VERGE);
    const surfaces = (s.surfaces ?? []).map((v) => (typeof v === 'number' ? SURFACE_NAMES[v] : v));
    const gate = (point) => [edges.left[point], edges.right[point]];
    const checkpoints = (s.checkpoints ?? []).map((c, i) => {
        const point = typeof c === 'number' ? c : c.point;
        return { index: c.index ?? i, point, left: c.left ?? gate(point)[0], right: c.right ?? gate(point)[1] };
    });
    const last = centre.length - 1;
    const finish = s.finish?.left ? s.finish : { point: last, left: edges.left[last], right: edges.right[last] };
    const start = s.start ?? {
        point: 0,
        heading: Math.atan2(centre[1][1] - centre[0][1], centre[1][0] - centre[0][0]),
        grid: [],
    };
    return {
        centre,
        width,
        left: edges.left,
        right: edges.right,
        walls,
        surfaces,
        checkpoints,
        finish,
        start,
        bounds: bounds(walls.left, walls.right),
        length: s.length ?? null,
        paths: null,
    };
}

/**
 * Camera: centre (x, y) in world units, zoom in pixels per unit. World y
 * points up, screen y down.
 */
export function worldToScreen(cam, vw, vh, x, y) {
    return [vw / 2 + (x - cam.x) * cam.zoom, vh / 2 - (y - cam.y) * cam.zoom];
}

export function screenToWorld(cam, vw, vh, sx, sy) {
    return [cam.x + (sx - vw / 2) / cam.zoom, cam.y - (sy - vh / 2) / cam.zoom];
}

/** The canvas transform [a, b, c, d, e, f] that draws world units at cam. */
export function cameraTransform(cam, vw, vh) {
    return [cam.zoom, 0, 0, -cam.zoom, vw / 2 - cam.x * cam.zoom, vh / 2 + cam.y * cam.zoom];
}

/** Zoom that fits a bounds box into w x h pixels with a margin. */
export function fitZoom(b, w, h, margin = 8) {
    const bw = Math.max(1e-6, b.maxX - b.minX);
    const bh = Math.max(1e-6, b.maxY - b.minY);
    return Math.min((w - 2 * margin) / bw, (h - 2 * margin) / bh);
}

/** Eases the camera towards target (x, y); dtMs since the last frame. Speed-dependent zoom. */
export function followCamera(cam, target, dtMs, opts = {}) {
    const k = 1 - Math.exp(-dtMs / (opts.lagMs ?? 120));
    const speed = Math.hypot(target.vx ?? 0, target.vy ?? 0);
    const baseZoom = opts.zoom ?? 6;
    const wantZoom = baseZoom * (1 - Math.min(0.45, speed / 150));
    return {
        x: cam.x + (target.x - cam.x) * k,
        y: cam.y + (target.y - cam.y) * k,
        zoom: cam.zoom + (wantZoom - cam.zoom) * k,
    };
}

/** Corners of a car rectangle (world), heading 0 = +x, counter-clockwise. */
export function carCorners(x, y, heading, length = CAR_LENGTH, width = CAR_WIDTH) {
    const c = Math.cos(heading),
        s = Math.sin(heading);
    const hl = length / 2,
        hw = width / 2;
    return [
        [hl, hw],
        [hl, -hw],
        [-hl, -hw],
        [-hl, hw],
    ].map(([f, l]) => [x + f * c - l * s, y + f * s + l * c]);
}

/** End point of a ray of length d at angle (relative to heading) from a car. */
export function rayEnd(car, angle, d) {
    const a = car.heading + angle;
    return [car.x + Math.cos(a) * d, car.y + Math.sin(a) * d];
}

/** Index of the next gate for a car that passed n checkpoints (== count: the finish). */
export function nextGate(geo, passed) {
    return passed < geo.checkpoints.length
        ? geo.checkpoints[passed]
        : { index: geo.checkpoints.length, ...geo.finish, finish: true };
}

export function formatTime(s) {
    if (s === null || s === undefined || !Number.isFinite(s)) return '--:--.--';
    const neg = s < 0;
    const t = Math.abs(s);
    const m = Math.floor(t / 60);
    const sec = t - m * 60;
    return `${neg ? '-' : ''}${String(m).padStart(2, '0')}:${sec.toFixed(2).padStart(5, '0')}`;
}

/** Speed in km/h from u/s (a unit is about a metre). */
export function speedKmh(car) {
    return Math.hypot(car.vx ?? 0, car.vy ?? 0) * 3.6;
}

/* ---- skid marks ---------------------------------------------------------- */

/** A ring of short skid segments per car, kept while a car slides. */
export class SkidMarks {
    constructor(capacity = 4000) {
        this.capacity = capacity;
        this.segs = new Float32Array(capacity * 4);
        this.n = 0;
        this.head = 0;
        this.last = new Map();
    }
    update(cars) {
        for (const c of cars) {
            const sliding = c.flags & FLAG.sliding || (c.flags & FLAG.braking && Math.hypot(c.vx, c.vy) > 8);
            const prev = this.last.get(c.id);
            if (sliding && prev && Math.hypot(c.x - prev[0], c.y - prev[1]) < 6) {
                const i = this.head * 4;
                this.segs[i] = prev[0];
                this.segs[i + 1] = prev[1];
                this.segs[i + 2] = c.x;
                this.segs[i + 3] = c.y;
                this.head = (this.head + 1) % this.capacity;
                this.n = Math.min(this.capacity, this.n + 1);
            }
            this.last.set(c.id, sliding ? [c.x, c.y] : null);
        }
    }
    clear() {
        this.n = 0;
        this.head = 0;
        this.last.clear();
    }
}

/* ---- drawing ------------------------------------------------------------ */

function polyPath(points, close = true) {
    const p = new Path2D();
    points.forEach(([x, y], i) => (i ? p.lineTo(x, y) : p.moveTo(x, y)));
    if (close) p.closePath();
    return p;
}

/** Path2D objects for the stage in world units, built once per stage. */
function buildPaths(geo) {
    const { left, right, walls, surfaces } = geo;
    const bySurface = {};
    for (let i = 0; i + 1 < left.length; i++) {
        const s = surfaces[i] ?? 'asphalt';
        if (!bySurface[s]) bySurface[s] = new Path2D();
        const p = bySurface[s];
        p.moveTo(left[i][0], left[i][1]);
        p.lineTo(left[i + 1][0], left[i + 1][1]);
        p.lineTo(right[i + 1][0], right[i + 1][1]);
        p.lineTo(right[i][0], right[i][1]);
        p.closePath();
    }
    const verge = new Path2D();
    for (let i = 0; i + 1 < walls.left.length; i++) {
        verge.moveTo(walls.left[i][0], walls.left[i][1]);
        verge.lineTo(walls.left[i + 1][0], walls.left[i + 1][1]);
        verge.lineTo(walls.right[i + 1][0], walls.right[i + 1][1]);
        verge.lineTo(walls.right[i][0], walls.right[i][1]);
        verge.closePath();
    }
    return {
        bySurface,
        verge,
        leftEdge: polyPath(left, false),
        rightEdge: polyPath(right, false),
        leftWall: polyPath(walls.left, false),
        rightWall: polyPath(walls.right, false),
        centre: polyPath(geo.centre, false),
    };
}

function gateLine(ctx, g) {
    ctx.beginPath();
    ctx.moveTo(g.left[0], g.left[1]);
    ctx.lineTo(g.right[0], g.right[1]);
    ctx.stroke();
}

function drawStage(ctx, geo, nextIdx, px) {
    const P = geo.paths ?? (geo.paths = buildPaths(geo));
    ctx.fillStyle = '#6b4f2a';
    ctx.fill(P.verge);
    for (const [s, p] of Object.entries(P.bySurface)) {
        ctx.fillStyle = SURFACE_COLOURS[s] ?? SURFACE_COLOURS.asphalt;
        ctx.fill(p);
        ctx.strokeStyle = ctx.fillStyle; // hides seams between quads
        ctx.lineWidth = px * 0.6;
        ctx.stroke(p);
    }
    ctx.lineWidth = px * 2;
    ctx.strokeStyle = '#f2f2f2';
    ctx.stroke(P.leftEdge);
    ctx.stroke(P.rightEdge);
    ctx.strokeStyle = '#222';
    ctx.lineWidth = px * 3;
    ctx.stroke(P.leftWall);
    ctx.stroke(P.rightWall);
    ctx.setLineDash([px * 6, px * 6]);
    ctx.strokeStyle = 'rgba(255,255,255,0.25)';
    ctx.lineWidth = px;
    ctx.stroke(P.centre);
    ctx.setLineDash([]);
    // Checkpoints: the next one bright, the others faint.
    for (const cp of geo.checkpoints) {
        const next = cp.index === nextIdx;
        ctx.strokeStyle = next ? '#00ffa0' : 'rgba(0,255,160,0.3)';
        ctx.lineWidth = px * (next ? 5 : 2);
        gateLine(ctx, cp);
    }
    // Start line, and the finish as a chequered band.
    const s0 = { left: geo.left[0], right: geo.right[0] };
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = px * 3;
    gateLine(ctx, s0);
    const f = geo.finish;
    const n = 10;
    for (let i = 0; i < n; i++) {
        const a = [f.left[0] + ((f.right[0] - f.left[0]) * i) / n, f.left[1] + ((f.right[1] - f.left[1]) * i) / n];
        const b = [
            f.left[0] + ((f.right[0] - f.left[0]) * (i + 1)) / n,
            f.left[1] + ((f.right[1] - f.left[1]) * (i + 1)) / n,
        ];
        ctx.strokeStyle = i % 2 ? '#000' : '#fff';
        ctx.lineWidth = px * 6;
        ctx.beginPath();
        ctx.moveTo(a[0], a[1]);
        ctx.lineTo(b[0], b[1]);
        ctx.stroke();
    }
    if (nextIdx === geo.checkpoints.length) {
        ctx.strokeStyle = '#00ffa0';
        ctx.lineWidth = px * 2;
        gateLine(ctx, f);
    }
}

function drawSkids(ctx, skids, px) {
    if (!skids || !skids.n) return;
    ctx.strokeStyle = 'rgba(20,20,20,0.45)';
    ctx.lineWidth = Math.max(px, 0.5);
    ctx.beginPath();
    const s = skids.segs;
    for (let k = 0; k < skids.n; k++) {
        const i = k * 4;
        ctx.moveTo(s[i], s[i + 1]);
        ctx.lineTo(s[i + 2], s[i + 3]);
    }
    ctx.stroke();
}

function drawCar(ctx, car, colour, px, mine) {
    ctx.save();
    ctx.translate(car.x, car.y);
    ctx.rotate(car.heading);
    if (car.flags & FLAG.nitro) {
        const len = 2.5 + Math.random() * 1.5;
        ctx.fillStyle = 'rgba(255,140,0,0.85)';
        ctx.beginPath();
        ctx.moveTo(-CAR_LENGTH / 2, 0.6);
        ctx.lineTo(-CAR_LENGTH / 2 - len, 0);
        ctx.lineTo(-CAR_LENGTH / 2, -0.6);
        ctx.fill();
        ctx.fillStyle = 'rgba(80,180,255,0.9)';
        ctx.beginPath();
        ctx.moveTo(-CAR_LENGTH / 2, 0.3);
        ctx.lineTo(-CAR_LENGTH / 2 - len * 0.5, 0);
        ctx.lineTo(-CAR_LENGTH / 2, -0.3);
        ctx.fill();
    }
    ctx.globalAlpha = car.flags & (FLAG.dnf | FLAG.finished) ? 0.5 : car.ghost ? 0.45 : 1;
    ctx.fillStyle = colour;
    ctx.fillRect(-CAR_LENGTH / 2, -CAR_WIDTH / 2, CAR_LENGTH, CAR_WIDTH);
    ctx.fillStyle = 'rgba(0,0,0,0.55)'; // windscreen shows the heading
    ctx.fillRect(CAR_LENGTH * 0.08, -CAR_WIDTH * 0.38, CAR_LENGTH * 0.22, CAR_WIDTH * 0.76);
    if (car.flags & FLAG.braking) {
        ctx.fillStyle = '#ff2020';
        ctx.fillRect(-CAR_LENGTH / 2, -CAR_WIDTH / 2, 0.35, 0.5);
        ctx.fillRect(-CAR_LENGTH / 2, CAR_WIDTH / 2 - 0.5, 0.35, 0.5);
    }
    if (mine) {
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = px * 2;
        ctx.strokeRect(-CAR_LENGTH / 2, -CAR_WIDTH / 2, CAR_LENGTH, CAR_WIDTH);
    }
    ctx.restore();
}

function rgbCss(rgb, a = 1) {
    return `rgba(${(rgb >> 16) & 255},${(rgb >> 8) & 255},${rgb & 255},${a})`;
}

function drawDebug(ctx, cars, debug, px) {
    for (const car of cars) {
        // Vision cone.
        ctx.fillStyle = 'rgba(255,255,0,0.035)';
        ctx.strokeStyle = 'rgba(255,255,0,0.3)';
        ctx.lineWidth = px;
        ctx.beginPath();
        ctx.moveTo(car.x, car.y);
        ctx.arc(car.x, car.y, VISION_RANGE, car.heading - VISION_HALF_ANGLE, car.heading + VISION_HALF_ANGLE);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
        // Velocity vector (one second ahead).
        ctx.strokeStyle = '#ff00ff';
        ctx.lineWidth = px * 2;
        ctx.beginPath();
        ctx.moveTo(car.x, car.y);
        ctx.lineTo(car.x + (car.vx ?? 0), car.y + (car.vy ?? 0));
        ctx.stroke();
        const rays = debug.rays?.get?.(car.id);
        if (rays) {
            ctx.strokeStyle = 'rgba(0,200,255,0.7)';
            ctx.lineWidth = px;
            ctx.beginPath();
            rays.forEach((d, i) => {
                const [ex, ey] = rayEnd(car, RAY_ANGLES[i], d);
                ctx.moveTo(car.x, car.y);
                ctx.lineTo(ex, ey);
            });
            ctx.stroke();
        }
    }
    for (const d of debug.drawings ?? []) {
        ctx.strokeStyle = rgbCss(d.rgb);
        ctx.fillStyle = rgbCss(d.rgb);
        ctx.lineWidth = px * 1.5;
        if (d.kind === 'line') {
            ctx.beginPath();
            ctx.moveTo(d.a, d.b);
            ctx.lineTo(d.c, d.d);
            ctx.stroke();
        } else if (d.kind === 'circle') {
            ctx.beginPath();
            ctx.arc(d.a, d.b, Math.max(0.1, d.c), 0, 2 * Math.PI);
            ctx.stroke();
        } else if (d.kind === 'text') {
            ctx.save();
            ctx.translate(d.a, d.b);
            ctx.scale(px, -px);
            ctx.font = '12px sans-serif';
            ctx.fillText(d.text, 0, 0);
            ctx.restore();
        }
    }
}

function drawMinimap(ctx, geo, cars, myId, x, y, size) {
    const b = geo.bounds;
    const z = fitZoom(b, size, size, 6);
    const cx = (b.minX + b.maxX) / 2,
        cy = (b.minY + b.maxY) / 2;
    ctx.save();
    ctx.fillStyle = 'rgba(0,0,0,0.55)';
    ctx.fillRect(x, y, size, size);
    ctx.beginPath();
    ctx.rect(x, y, size, size);
    ctx.clip();
    ctx.setTransform(z, 0, 0, -z, x + size / 2 - cx * z, y + size / 2 + cy * z);
    const P = geo.paths ?? (geo.paths = buildPaths(geo));
    ctx.strokeStyle = '#ddd';
    ctx.lineWidth = 3 / z;
    ctx.stroke(P.centre);
    for (const c of cars) {
        ctx.fillStyle = c.id === myId ? '#fff' : CAR_COLOURS[c.id % CAR_COLOURS.length];
        ctx.beginPath();
        ctx.arc(c.x, c.y, (c.id === myId ? 5 : 3.5) / z, 0, 2 * Math.PI);
        ctx.fill();
    }
    ctx.restore();
}

function drawHud(ctx, vw, vh, hud) {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = 'rgba(0,0,0,0.6)';
    ctx.fillRect(12, 12, 230, 124);
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 28px system-ui, sans-serif';
    ctx.fillText(`${Math.round(hud.speed)} km/h`, 24, 46);
    ctx.font = '16px system-ui, sans-serif';
    ctx.fillText(`Position ${hud.position ?? '-'}/${hud.cars ?? '-'}`, 24, 70);
    ctx.fillText(`Checkpoint ${hud.nextCheckpoint ?? '-'}`, 24, 90);
    ctx.fillText(`Time ${formatTime(hud.time)}  Split ${formatTime(hud.split)}`, 24, 110);
    ctx.fillText(`Nitro ${'●'.repeat(Math.max(0, hud.nitro ?? 0))}${hud.nitroActive ? ' 🔥' : ''}`, 24, 130);
    if (hud.countdown !== null && hud.countdown !== undefined && hud.countdown > 0) {
        ctx.font = 'bold 120px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.fillStyle = 'rgba(255,255,255,0.92)';
        ctx.fillText(String(Math.ceil(hud.countdown)), vw / 2, vh / 2);
    } else if (hud.countdown !== null && hud.countdown !== undefined && hud.countdown > -1) {
        ctx.font = 'bold 100px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.fillStyle = '#00ffa0';
        ctx.fillText('GO!', vw / 2, vh / 2);
    }
    if (hud.banner) {
        ctx.font = 'bold 36px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.fillStyle = '#fff';
        ctx.fillText(hud.banner, vw / 2, 60);
    }
    ctx.restore();
}

/**
 * Draws one frame. frame: { geo, cars, myId, cam, hud, skids, debug: null |
 * { rays: Map(id -> distances), drawings: [...] }, minimap: true }.
 */
export function drawFrame(ctx, vw, vh, frame) {
    const { geo, cars, myId, cam } = frame;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = SURFACE_COLOURS.offroad;
    ctx.fillRect(0, 0, vw, vh);
    if (!geo) return;
    ctx.setTransform(...cameraTransform(cam, vw, vh));
    const px = 1 / cam.zoom;
    const mine = cars.find((c) => c.id === myId);
    const nextIdx = mine ? nextGate(geo, mine.checkpoints ?? 0).index : -1;
    drawStage(ctx, geo, nextIdx, px);
    drawSkids(ctx, frame.skids, px);
    // The overlay goes under the cars so it never hides them.
    if (frame.debug) drawDebug(ctx, cars, frame.debug, px);
    for (const c of cars) drawCar(ctx, c, c.colour ?? CAR_COLOURS[c.id % CAR_COLOURS.length], px, c.id === myId);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (frame.minimap !== false) drawMinimap(ctx, geo, cars, myId, vw - 212, 12, 200);
    if (frame.hud) drawHud(ctx, vw, vh, frame.hud);
}

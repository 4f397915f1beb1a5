// replay.js - reads the engine's replay file (the format drawn in
// cengine/sim/replay.h) into plain objects, checking every length and value
// as the C reader does, so the viewer can re-simulate it with the WASM engine.

const MAGIC = 'CRREPLAY';
const FORMAT = 3; // reads 1 to 3; 2 adds the surfaces hash, 3 the STAGE_* settings
const MAX_CARS = 16;
const MAX_PARAMS = 32;
const MAX_DRAWINGS = 32;

export class ReplayFormatError extends Error {
    constructor(offset, what) {
        super(`replay damaged at byte ${offset}: ${what}`);
        this.offset = offset;
    }
}

class Reader {
    constructor(buf) {
        this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
        this.bytes = buf;
        this.off = 0;
    }
    need(n, what) {
        if (this.off + n > this.view.byteLength) throw new ReplayFormatError(this.off, `truncated ${what}`);
    }
    u8(what = 'u8') {
        this.need(1, what);
        return this.view.getUint8(this.off++);
    }
    i8(what = 'i8') {
        this.need(1, what);
        return this.view.getInt8(this.off++);
    }
    u16(what = 'u16') {
        this.need(2, what);
        const v = this.view.getUint16(this.off, true);
        this.off += 2;
        return v;
    }
    u32(what = 'u32') {
        this.need(4, what);
        const v = this.view.getUint32(this.off, true);
        this.off += 4;
        return v;
    }
    f32(what = 'f32') {
        this.need(4, what);
        const v = this.view.getFloat32(this.off, true);
        this.off += 4;
        return v;
    }
    f64(what = 'f64') {
        this.need(8, what);
        const v = this.view.getFloat64(this.off, true);
        this.off += 8;
        return v;
    }
    u64hex(what = 'u64') {
        this.need(8, what);
        const v = this.view.getBigUint64(this.off, true);
        this.off += 8;
        return v.toString(16).padStart(16, '0');
    }
    u64(what = 'u64') {
        this.need(8, what);
        const v = this.view.getBigUint64(this.off, true);
        this.off += 8;
        return v;
    }
    str(what = 'string') {
        const n = this.u16(what);
        if (n > 255) throw new ReplayFormatError(this.off - 2, `${what} longer than 255 bytes`);
        this.need(n, what);
        const s = new TextDecoder().decode(this.bytes.subarray(this.off, this.off + n));
        this.off += n;
        return s;
    }
}

/** Parses a replay from an ArrayBuffer or Uint8Array. Throws ReplayFormatError. */
export function parseReplay(data) {
    const buf = data instanceof Uint8Array ? data : new Uint8Array(data);
    const r = new Reader(buf);
    r.need(8, 'magic');
    const magic = new TextDecoder().decode(buf.subarray(0, 8));
    if (magic !== MAGIC) throw new ReplayFormatError(0, 'no CRREPLAY magic');
    r.off = 8;
    const format = r.u32('format');
    if (format < 1 || format > FORMAT)
        throw new ReplayFormatError(8, `replay format ${format}; this viewer reads 1..${FORMAT}`);
    const header = {};
    header.generator = r.str('generator');
    header.generatorVersion = r.str('generator version');
    header.seed = r.u64('seed').toString();
    const nParams = r.u16('parameter count');
    if (nParams > MAX_PARAMS) throw new ReplayFormatError(r.off, 'too many parameters');
    header.params = {};
    for (let i = 0; i < nParams; i++) {
        const k = r.str('parameter key');
        header.params[k] = r.str('parameter value');
    }
    header.rules = r.str('rules');
    header.rulesHash = r.u64hex('rules hash');
    header.stageHash = r.u64hex('stage hash');
    // Format 1 had only the shipped surface table; 0 means not recorded.
    header.surfacesHash = format >= 2 ? r.u64hex('surfaces hash') : '0000000000000000';
    // Format 3 on: STAGE_MIN_LENGTH / STAGE_MAX_LENGTH the stage was made under.
    header.stageLimits =
        format >= 3 ? { minLength: r.f64('stage min length'), maxLength: r.f64('stage max length') } : null;
    const nCars = r.u8('car count');
    if (nCars < 1 || nCars > MAX_CARS) throw new ReplayFormatError(r.off, 'bad header');
    header.cars = [];
    for (let i = 0; i < nCars; i++) {
        const name = r.str('car name');
        const carType = r.str('car type');
        const kind = r.u8('car kind');
        if (kind > 2) throw new ReplayFormatError(r.off, 'bad car entry');
        const stats = [];
        for (let k = 0; k < 8; k++) stats.push(r.f64('car stat'));
        header.cars.push({ name, carType, kind: ['ai', 'bot', 'human'][kind], kindCode: kind, stats });
    }
    const inputs = [];
    const hashes = [];
    const drawings = [];
    let finalTick = null;
    let finalHash = null;
    let lastTick = 0;
    while (finalTick === null) {
        const at = r.off;
        const type = String.fromCharCode(r.u8('record type'));
        const tick = r.u32('record tick');
        if (tick < lastTick) throw new ReplayFormatError(at, 'records out of tick order');
        lastTick = tick;
        if (type === 'I') {
            const car = r.u8();
            const throttle = r.u8();
            const brake = r.u8();
            const steer = r.i8();
            const flags = r.u8();
            if (car >= nCars || flags > 3) throw new ReplayFormatError(at, 'bad input record');
            inputs.push({ tick, car, throttle, brake, steer, flags });
        } else if (type === 'H') {
            hashes.push({ tick, hash: r.u64hex() });
        } else if (type === 'D') {
            const car = r.u8();
            const n = r.u8();
            if (car >= nCars || n > MAX_DRAWINGS) throw new ReplayFormatError(at, 'bad drawing record');
            const items = [];
            for (let i = 0; i < n; i++) {
                const kind = r.u8();
                const rgb = r.u32();
                const a = r.f32(),
                    b = r.f32(),
                    c = r.f32(),
                    d = r.f32();
                const tlen = r.u8();
                r.need(tlen, 'drawing text');
                const text = new TextDecoder().decode(buf.subarray(r.off, r.off + tlen));
                r.off += tlen;
                if (kind > 2 || rgb > 0xffffff || tlen > 64) throw new ReplayFormatError(at, 'bad drawing');
                items.push({ kind: ['line', 'circle', 'text'][kind], rgb, a, b, c, d, text });
            }
            drawings.push({ tick, car, items });
        } else if (type === 'E') {
            finalTick = tick;
            finalHash = r.u64hex();
        } else {
            throw new ReplayFormatError(at, `unknown record '${type}'`);
        }
    }
    if (r.off !== buf.byteLength) throw new ReplayFormatError(r.off, 'data after the end record');
    return { header, inputs, hashes, drawings, finalTick, finalHash };
}

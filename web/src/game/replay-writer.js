// replay-writer.js - writes the replay format of cengine/sim/replay.h, the
// inverse of replay.js: used by tests to hand a browser-simulated race to the
// native `coderally replay verify`, and to save a local re-simulation.

function strBytes(s) {
    const b = new TextEncoder().encode(s);
    if (b.length > 255) throw new Error(`replay string longer than 255 bytes: ${s.slice(0, 20)}...`);
    return b;
}

/** Returns a Uint8Array holding the replay. Same object shape as parseReplay's. */
export function writeReplay({ header, inputs, hashes, drawings = [], finalTick, finalHash }) {
    const parts = [];
    const u8 = (v) => parts.push(Uint8Array.of(v));
    const num = (bytes, fn) => {
        const b = new Uint8Array(bytes);
        fn(new DataView(b.buffer));
        parts.push(b);
    };
    const u16 = (v) => num(2, (d) => d.setUint16(0, v, true));
    const u32 = (v) => num(4, (d) => d.setUint32(0, v, true));
    const f32 = (v) => num(4, (d) => d.setFloat32(0, v, true));
    const f64 = (v) => num(8, (d) => d.setFloat64(0, v, true));
    const u64 = (v) => num(8, (d) => d.setBigUint64(0, BigInt(v), true));
    const hex = (h) => u64(`0x${h}`);
    const str = (s) => {
        const b = strBytes(s);
        u16(b.length);
        parts.push(b);
    };

    parts.push(new TextEncoder().encode('CRREPLAY'));
    u32(2);
    str(header.generator);
    str(header.generatorVersion);
    u64(header.seed);
    const params = Object.entries(header.params || {});
    u16(params.length);
    for (const [k, v] of params) {
        str(k);
        str(String(v));
    }
    str(header.rules);
    hex(header.rulesHash);
    hex(header.stageHash);
    hex(header.surfacesHash || '0');
    u8(header.cars.length);
    for (const c of header.cars) {
        str(c.name);
        str(c.carType);
        u8(c.kindCode);
        for (const s of c.stats) f64(s);
    }
    // Records merged in tick order; at one tick: drawings, inputs, then hashes.
    const recs = [
        ...drawings.map((d) => ({ tick: d.tick, order: 0, d })),
        ...inputs.map((i) => ({ tick: i.tick, order: 1, i })),
        ...hashes.map((h) => ({ tick: h.tick, order: 2, h })),
    ].sort((a, b) => a.tick - b.tick || a.order - b.order);
    for (const r of recs) {
        if (r.i) {
            u8(73);
            u32(r.tick);
            u8(r.i.car);
            u8(r.i.throttle);
            u8(r.i.brake);
            u8(r.i.steer & 0xff);
            u8(r.i.flags);
        } else if (r.h) {
            u8(72);
            u32(r.tick);
            hex(r.h.hash);
        } else {
            u8(68);
            u32(r.tick);
            u8(r.d.car);
            u8(r.d.items.length);
            for (const it of r.d.items) {
                u8(['line', 'circle', 'text'].indexOf(it.kind));
                u32(it.rgb);
                f32(it.a);
                f32(it.b);
                f32(it.c);
                f32(it.d);
                const t = new TextEncoder().encode(it.text || '');
                u8(t.length);
                parts.push(t);
            }
        }
    }
    u8(69);
    u32(finalTick);
    hex(finalHash);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
        out.set(p, off);
        off += p.length;
    }
    return out;
}

import { describe, expect, it } from 'vitest';
import { KeyboardInput } from '../src/game/input.js';

function key(type, code, target = null) {
    const e = new Event(type, { cancelable: true });
    Object.defineProperty(e, 'code', { value: code });
    if (target) Object.defineProperty(e, 'target', { value: target });
    return e;
}

describe('KeyboardInput', () => {
    it('maps arrows, WASD, space and shift to actions and stops the page from scrolling', () => {
        const t = new EventTarget();
        const seen = [];
        new KeyboardInput(
            t,
            (a) => seen.push(a),
            () => 0,
        ).attach();
        const down = key('keydown', 'ArrowUp');
        t.dispatchEvent(down);
        expect(down.defaultPrevented).toBe(true);
        t.dispatchEvent(key('keydown', 'KeyA'));
        t.dispatchEvent(key('keydown', 'Space'));
        t.dispatchEvent(key('keydown', 'ShiftLeft'));
        expect(seen.at(-1)).toEqual({
            accelerate: true,
            brake: false,
            turn_left: true,
            turn_right: false,
            nitro: true,
            handbrake: true,
        });
        t.dispatchEvent(key('keyup', 'ArrowUp'));
        expect(seen.at(-1).accelerate).toBe(false);
    });
    it('reports only changes; both keys of one action must be released', () => {
        const t = new EventTarget();
        const seen = [];
        new KeyboardInput(
            t,
            (a) => seen.push(a),
            () => 0,
        ).attach();
        t.dispatchEvent(key('keydown', 'ArrowUp'));
        t.dispatchEvent(key('keydown', 'ArrowUp')); // auto-repeat
        t.dispatchEvent(key('keydown', 'KeyW'));
        expect(seen).toHaveLength(1);
        t.dispatchEvent(key('keyup', 'ArrowUp'));
        expect(seen).toHaveLength(1);
        t.dispatchEvent(key('keyup', 'KeyW'));
        expect(seen).toHaveLength(2);
    });
    it('releases everything when the window loses focus', () => {
        const t = new EventTarget();
        const seen = [];
        new KeyboardInput(
            t,
            (a) => seen.push(a),
            () => 0,
        ).attach();
        t.dispatchEvent(key('keydown', 'ArrowRight'));
        t.dispatchEvent(new Event('blur'));
        expect(seen.at(-1).turn_right).toBe(false);
    });
    it('leaves keys alone while typing in a field, and ignores other keys', () => {
        const t = new EventTarget();
        const seen = [];
        const inp = new KeyboardInput(
            t,
            (a) => seen.push(a),
            () => 0,
        ).attach();
        const e = key('keydown', 'KeyW', { tagName: 'INPUT' });
        t.dispatchEvent(e);
        expect(e.defaultPrevented).toBe(false);
        t.dispatchEvent(key('keydown', 'KeyQ'));
        expect(seen).toHaveLength(0);
        inp.detach();
        t.dispatchEvent(key('keydown', 'ArrowUp'));
        expect(seen).toHaveLength(0);
    });
});

// input.js - keyboard driving: arrows or WASD, space for the handbrake,
// shift for nitro. Listens on the window so the car answers wherever the
// focus is (except while typing in a field or the code editor), stops the
// page from scrolling on game keys, and releases every key when the window
// loses focus so a car never drives on by itself.

import { ACTIONS } from '../services/protocol.js';

export const KEYMAP = {
    ArrowUp: 'accelerate',
    KeyW: 'accelerate',
    ArrowDown: 'brake',
    KeyS: 'brake',
    ArrowLeft: 'turn_left',
    KeyA: 'turn_left',
    ArrowRight: 'turn_right',
    KeyD: 'turn_right',
    Space: 'handbrake',
    ShiftLeft: 'nitro',
    ShiftRight: 'nitro',
};

export function emptyActions() {
    return Object.fromEntries(ACTIONS.map((a) => [a, false]));
}

function typingInto(target) {
    if (!target || typeof target !== 'object') return false;
    const tag = (target.tagName || '').toUpperCase();
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return true;
    if (target.isContentEditable) return true;
    return typeof target.closest === 'function' && !!target.closest('.monaco-editor');
}

export class KeyboardInput {
    /** onChange(actions, atMs) runs whenever the action set changes. */
    constructor(target, onChange, now = () => performance.now()) {
        this.target = target;
        this.onChange = onChange;
        this.now = now;
        this.down = new Set();
        this.actions = emptyActions();
        this.handlers = {
            keydown: (e) => this.key(e, true),
            keyup: (e) => this.key(e, false),
            blur: () => this.releaseAll(),
            visibilitychange: () => this.releaseAll(),
        };
    }

    attach() {
        this.target.addEventListener('keydown', this.handlers.keydown);
        this.target.addEventListener('keyup', this.handlers.keyup);
        this.target.addEventListener('blur', this.handlers.blur);
        if (globalThis.document)
            globalThis.document.addEventListener('visibilitychange', this.handlers.visibilitychange);
        return this;
    }

    detach() {
        this.target.removeEventListener('keydown', this.handlers.keydown);
        this.target.removeEventListener('keyup', this.handlers.keyup);
        this.target.removeEventListener('blur', this.handlers.blur);
        if (globalThis.document)
            globalThis.document.removeEventListener('visibilitychange', this.handlers.visibilitychange);
    }

    key(e, isDown) {
        const action = KEYMAP[e.code];
        if (!action || typingInto(e.target)) return;
        if (typeof e.preventDefault === 'function') e.preventDefault();
        if (isDown) this.down.add(e.code);
        else this.down.delete(e.code);
        this.update();
    }

    releaseAll() {
        this.down.clear();
        this.update();
    }

    update() {
        const next = emptyActions();
        for (const code of this.down) next[KEYMAP[code]] = true;
        const changed = ACTIONS.some((a) => next[a] !== this.actions[a]);
        this.actions = next;
        if (changed) this.onChange({ ...next }, this.now());
    }
}

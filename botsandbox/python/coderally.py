"""coderally - small helpers for bots: 2-D vectors as (x, y) tuples, angles,
and conversions between the car frame and the world.

Bots get this module with `import coderally`. Everything public here is a
plain function or a tuple; the module keeps its own imports under
underscore names, which bot code cannot reach.

Conventions (as in the sensor record): world angles in radians,
counter-clockwise positive, 0 = +x; car frame: forward is +x, left is +y.
"""

import math as _m

import _crguard as _g

# Filled in from the engine when the worker loads a bot.
RAY_ANGLES = ()
PACE_AHEAD = ()
# The stage's surface names in index order (scripts/surfaces.lua); the
# worker replaces this default with the race's table at start.
SURFACES = ("asphalt", "gravel", "ice", "offroad")
PI = _m.pi
TAU = 2.0 * _m.pi


def _set_sensor_geometry(ray_angles, pace_ahead):
    global RAY_ANGLES, PACE_AHEAD
    RAY_ANGLES = tuple(ray_angles)
    PACE_AHEAD = tuple(pace_ahead)


def vec(x, y):
    """The vector (x, y) as a tuple of floats."""
    return (float(x), float(y))


def add(a, b):
    return (a[0] + b[0], a[1] + b[1])


def sub(a, b):
    return (a[0] - b[0], a[1] - b[1])


def scale(a, k):
    return (a[0] * k, a[1] * k)


def dot(a, b):
    return a[0] * b[0] + a[1] * b[1]


def cross(a, b):
    """z of the 3-D cross product: > 0 when b is to the left of a."""
    return a[0] * b[1] - a[1] * b[0]


def length(a):
    return _m.hypot(a[0], a[1])


def distance(a, b):
    return _m.hypot(a[0] - b[0], a[1] - b[1])


def normalize(a):
    """a scaled to length 1; (0, 0) stays (0, 0)."""
    n = _m.hypot(a[0], a[1])
    return (a[0] / n, a[1] / n) if n > 0 else (0.0, 0.0)


def rotate(a, angle):
    """a rotated counter-clockwise by angle (rad)."""
    c, s = _m.cos(angle), _m.sin(angle)
    return (a[0] * c - a[1] * s, a[0] * s + a[1] * c)


def angle_of(a):
    """Direction of a (rad, in (-pi, pi])."""
    return _m.atan2(a[1], a[0])


def from_angle(angle, length=1.0):
    return (_m.cos(angle) * length, _m.sin(angle) * length)


def wrap_angle(a):
    """a folded into (-pi, pi]."""
    a = _m.fmod(a + _m.pi, 2.0 * _m.pi)
    if a <= 0.0:
        a += 2.0 * _m.pi
    return a - _m.pi


def angle_diff(a, b):
    """The signed smallest turn from b to a (rad, in (-pi, pi])."""
    return wrap_angle(a - b)


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def lerp(a, b, t):
    return a + (b - a) * t


def to_world(state, forward, left):
    """A point given in the car frame of state, in world coordinates."""
    h = state["heading"]
    c, s = _m.cos(h), _m.sin(h)
    return (state["x"] + forward * c - left * s, state["y"] + forward * s + left * c)


def to_car(state, x, y):
    """A world point in the car frame of state: (forward, left)."""
    h = state["heading"]
    c, s = _m.cos(h), _m.sin(h)
    dx, dy = x - state["x"], y - state["y"]
    return (dx * c + dy * s, -dx * s + dy * c)


def steer_towards(bearing, gain=2.0):
    """A steer value in [-1, 1] that turns towards bearing (rad, left +)."""
    return clamp(bearing * gain, -1.0, 1.0)


def cpu_used():
    """ms of CPU this call (on_tick, or the event handler running) has used
    so far; the call is stopped when it reaches cpu_budget()."""
    return _g.cpu_used()


def cpu_budget():
    """ms of CPU one call may use (BOT_EXECUTION_TIMEOUT_MS; the start-up
    budget while __init__ runs)."""
    return _g.cpu_budget()


def cpu_average():
    """Mean ms of CPU per bot tick over the previous ticks of this worker
    (events, on_tick and marshalling included); 0 before the first."""
    return _g.cpu_average()


def predict(state, actions, ticks, nitro_held=False):
    """The engine's own car model run `ticks` ticks (at most 600) from state
    with actions (a dict as on_tick returns) held throughout; returns a
    state-like dict of the car. One surface (state["surface"]), no walls,
    no other cars: see docs/BOT_API.md for the limits."""
    return _g.predict(state, actions, ticks, nitro_held is True)

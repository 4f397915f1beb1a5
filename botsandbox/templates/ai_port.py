"""The built-in AI's approach in Python (cengine/sim/ai.c): steer for the
road centre a speed-dependent distance ahead, pick the speed it can carry
into the sharpest corner of its pace notes, braking early enough for the
ones further on; nitro on straights; back out when stuck.
"""

import math

LATERAL = {"asphalt": 38.0, "gravel": 24.0, "ice": 8.5, "offroad": 14.0}
BRAKING = {"asphalt": 26.0, "gravel": 18.0, "ice": 6.0, "offroad": 12.0}
SKILL = 1.0


def clamp(v, lo, hi):
    return lo if v < lo else hi if v > hi else v


def aim_point(pace, dist):
    """The road centre `dist` ahead, interpolated between pace notes."""
    pf, pl, pa = 0.0, 0.0, 0.0
    for k, note in enumerate(pace):
        if note["ahead"] >= dist or k == len(pace) - 1:
            span = note["ahead"] - pa
            u = clamp((dist - pa) / span, 0.0, 1.0) if span > 1e-6 else 1.0
            return pf + (note["forward"] - pf) * u, pl + (note["left"] - pl) * u
        pf, pl, pa = note["forward"], note["left"], note["ahead"]
    return 10.0, 0.0


class Bot:
    def on_tick(self, state):
        if state["phase"] != "running" or state["finished"] or state["dnf"]:
            return {}
        pace = state["pace"]
        speed = state["v_forward"]
        look = clamp(5.0 + 0.38 * abs(speed), 7.0, 40.0)
        af, al = aim_point(pace, look)
        bearing = math.atan2(al, af)
        steer = clamp(bearing * 2.4 - state["angular_velocity"] * 0.10, -1.0, 1.0)

        margin = 0.72 + 0.22 * SKILL
        vmax = state["top_speed"] * 1.3
        brake = BRAKING.get(state["surface"], 18.0)
        for note in pace:
            lat = LATERAL.get(note["surface"], 24.0) * margin
            curv = abs(note["curvature"])
            v_corner = math.sqrt(lat / curv) if curv > 1e-4 else 1e9
            dist = max(0.0, note["ahead"] - 8.0 - 0.1 * speed)
            vmax = min(vmax, math.sqrt(v_corner * v_corner + 2.0 * brake * margin * dist))
        ahead = state["rays"][len(state["rays"]) // 2]
        if not state["on_road"]:
            vmax = min(vmax, 12.0)
        if ahead < 12.0:
            vmax = min(vmax, 6.0 + ahead)

        act = {"steer": steer, "throttle": 0.0, "brake": 0.0}
        if speed < vmax - 1.0:
            act["throttle"] = 1.0
        elif speed > vmax + 1.0:
            act["brake"] = clamp((speed - vmax) / 6.0, 0.25, 1.0)
        else:
            act["throttle"] = 0.35
        if state["sliding"] and abs(bearing) > 0.6 and state["surface"] == "gravel" and speed > 12:
            act["handbrake"] = True
        straight = all(abs(n["curvature"]) < 0.006 and n["surface"] != "ice" for n in pace)
        if (straight and state["nitro_charges"] > 0 and state["nitro_time"] <= 0
                and speed > 0.6 * state["top_speed"] and ahead > 100 and SKILL > 0.5):
            act["nitro"] = True
        if abs(speed) < 2.0 and ahead < 3.0:
            act["throttle"] = 0.0
            act["brake"] = 1.0
            act["steer"] = -steer
        return act

"""Checkpoint follower: aims at the next checkpoint gate while it is in
view, otherwise at the road ahead; slows for corners and remembers its best
time across races in self.memory.
"""

import math
import coderally


class Bot:
    def __init__(self):
        # self.memory is already set here: it survives from race to race.
        self.races = self.memory.get("races", 0)
        self.gates = 0

    def on_checkpoint(self, event):
        self.gates = self.gates + 1

    def on_finish(self, event):
        self.memory["races"] = self.races + 1
        if event["finished"]:
            best = self.memory.get("best_time")
            if best is None or event["time"] < best:
                self.memory["best_time"] = event["time"]

    def target(self, state):
        """(forward, left) of the point to steer at, in the car frame."""
        gates = state["checkpoints"]
        road = state["pace"][1]
        if gates:
            gate = gates[0]
            # Only trust the gate when the road to it is straight enough.
            if gate["distance"] < 30.0 and abs(gate["bearing"]) < 0.8:
                return gate["forward"], gate["left"]
        return road["forward"], road["left"]

    def on_tick(self, state):
        if state["phase"] != "running":
            return {}
        fwd, left = self.target(state)
        bearing = math.atan2(left, fwd)
        steer = coderally.clamp(bearing * 2.2 - state["angular_velocity"] * 0.1, -1.0, 1.0)
        # Corner speed from the sharpest bend in the next notes.
        limit = state["top_speed"]
        for note in state["pace"][:5]:
            curv = abs(note["curvature"])
            grip = 8.0 if note["surface"] == "ice" else 20.0 if note["surface"] == "gravel" else 30.0
            if curv > 1e-4:
                corner = math.sqrt(grip / curv)
                reach = math.sqrt(corner * corner + 2.0 * 15.0 * max(0.0, note["ahead"] - 8.0))
                limit = min(limit, reach)
        speed = state["v_forward"]
        if speed < limit - 1.0:
            return {"throttle": 1.0, "steer": steer}
        if speed > limit + 1.0:
            return {"brake": min(1.0, (speed - limit) / 6.0 + 0.2), "steer": steer}
        return {"throttle": 0.4, "steer": steer}

"""The smallest bot that finishes: steer towards the road a little ahead,
full throttle, brake when the road bends hard.

A bot is a class named Bot. The game calls on_tick(state) 20 times a second
and drives the car with the dict it returns. See docs/BOT_API.md.
"""


class Bot:
    def on_tick(self, state):
        note = state["pace"][1]  # the road centre about 20 u ahead
        steer = max(-1.0, min(1.0, note["bearing"] * 2.0))
        sharp = max(abs(p["curvature"]) for p in state["pace"][:4])
        fast = state["speed"] > 10.0 + 2.0 / (sharp + 0.02)
        return {"throttle": 0.0 if fast else 1.0, "brake": 0.6 if fast else 0.0, "steer": steer}

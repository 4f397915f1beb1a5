"""The smallest bot that finishes: steer towards the road a little ahead,
full throttle, brake for the bends ahead (earlier on gravel and ice).

A bot is a class named Bot. The game calls on_tick(state) 20 times a second
and drives the car with the dict it returns. See docs/BOT_API.md.
"""

GRIP = {"asphalt": 30.0, "gravel": 20.0, "ice": 8.0}


class Bot:
    def on_tick(self, state):
        # Aim at the road centre 20 u ahead, or 10 u in a hairpin (aiming
        # further would cut across the inside, off the road).
        pace = state["pace"]
        note = pace[0] if abs(pace[1]["curvature"]) > 0.05 else pace[1]
        steer = max(-1.0, min(1.0, note["bearing"] * 2.0))
        # The fastest speed at which each bend ahead can still be taken.
        limit = state["top_speed"]
        for p in pace[:5]:
            bend = (GRIP.get(p["surface"], 20.0) / (abs(p["curvature"]) + 1e-4)) ** 0.5
            limit = min(limit, bend + 0.5 * max(0.0, p["ahead"] - 10.0))
        fast = state["speed"] > limit
        return {"throttle": 0.0 if fast else 1.0, "brake": 0.6 if fast else 0.0, "steer": steer}

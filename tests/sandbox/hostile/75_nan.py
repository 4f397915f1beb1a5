# expect: error
class Bot:
    def on_tick(self, state):
        return {"throttle": float("nan"), "steer": 0.0}

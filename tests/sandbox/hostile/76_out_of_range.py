# expect: error
class Bot:
    def on_tick(self, state):
        return {"throttle": 5.0, "steer": float("inf")}

# expect: error
class Bot:
    def on_tick(self, state):
        return {"throttle": 1.0, "teleport": True}

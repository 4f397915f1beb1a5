# expect: dropped
class Bot:
    def on_tick(self, state):
        return {"throttle": 1.0, "debug": [("line", 0, 0, 1, 1)] * 1000000}

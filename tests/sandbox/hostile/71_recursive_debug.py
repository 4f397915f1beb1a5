# expect: dropped
class Bot:
    def on_tick(self, state):
        d = []
        d.append(d)
        return {"throttle": 1.0, "debug": d}

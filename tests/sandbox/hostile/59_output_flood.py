# expect: flood
class Bot:
    def on_tick(self, state):
        for i in range(100000):
            print("flood " * 20, i)
        return {"throttle": 1.0}

# expect: error
class Bot:
    def down(self, n):
        return self.down(n + 1) + 1
    def on_tick(self, state):
        return {"throttle": float(self.down(0))}

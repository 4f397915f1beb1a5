# expect: error
class D(dict):
    def items(self):
        print("ESCAPED items ran")
        return []

class Bot:
    def on_tick(self, state):
        return D(throttle=1.0)

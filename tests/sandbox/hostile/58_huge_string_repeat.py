# expect: crash
class Bot:
    def on_tick(self, state):
        big = [0] * (10 ** 10)
        print("ESCAPED", len(big))
        return {}

# expect: crash
# One allocation over the limit; catching MemoryError does not help.
class Bot:
    def on_tick(self, state):
        try:
            s = "x" * (3 * 10 ** 9)
            print("ESCAPED", len(s))
        except MemoryError:
            print("caught MemoryError")
        return {"throttle": 1.0}

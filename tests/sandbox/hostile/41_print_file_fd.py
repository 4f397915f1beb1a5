# expect: blocked
# File descriptors by number: print(file=1) is refused, and there is no os.
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", file=2)
        except Exception as e:
            print("blocked", e)
        return {}

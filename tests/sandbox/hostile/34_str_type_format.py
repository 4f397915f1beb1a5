# expect: blocked
# string.Formatter-style resolution through the type: str.format(fmt, obj).
class Bot:
    def on_tick(self, state):
        try:
            f = str.format
            print("ESCAPED", f("{0.__class__}", 1))
        except Exception as e:
            print("blocked", e)
        return {}

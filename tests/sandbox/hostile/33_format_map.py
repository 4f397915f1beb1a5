# expect: blocked
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", "{x.__class__}".format_map({"x": self}))
        except Exception as e:
            print("blocked", e)
        return {}

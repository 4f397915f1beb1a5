# expect: blocked
class Bot:
    def on_tick(self, state):
        g = (x for x in [1])
        try:
            print("ESCAPED", getattr(g, "gi" + "_frame"))
        except Exception as e:
            print("blocked", e)
        return {}

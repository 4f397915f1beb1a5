# expect: blocked
# Computed attribute names go through the C guard at run time.
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", getattr((), "__cl" + "ass__"))
        except Exception as e:
            print("blocked", e)
        return {}

# expect: blocked
# GHSA-xjw2-6jm9-rf67: str.format walks attributes by name.
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", "{0.__class__.__base__}".format(1))
        except Exception as e:
            print("blocked", e)
        return {}

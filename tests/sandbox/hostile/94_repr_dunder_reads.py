# expect: blocked
# A bot's own special methods run as bot code; reading other objects'
# special attributes from them stays refused.
class Probe:
    def __repr__(self):
        try:
            return "ESCAPED %s" % getattr(self, "__dict__")
        except AttributeError as e:
            return "blocked %s" % e

    def __eq__(self, other):
        return getattr(other, "__class__", None) is not None


class Bot:
    def on_tick(self, state):
        print(repr(Probe()))
        try:
            print("ESCAPED" if Probe() == 1 else "nothing")
        except AttributeError as e:
            print("blocked", e)
        return {}

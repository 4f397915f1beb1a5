# expect: blocked
# type(x) is the real class, but its special attributes stay out of reach.
class Bot:
    def on_tick(self, state):
        for name in ("__subclasses__", "__bases__", "__mro__", "__dict__", "mro", "__base__"):
            try:
                print("ESCAPED", getattr(type(1), name))
            except AttributeError as e:
                print("blocked", e)
        return {}

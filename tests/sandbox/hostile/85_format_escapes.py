# expect: blocked
# str.format is available, but its fields go through the guards:
# "{0.__class__}" is refused like x.__class__ (the classic RestrictedPython
# escape, GHSA-xjw2-6jm9-rf67).
class Bot:
    def on_tick(self, state):
        tries = [
            lambda: "{0.__class__.__base__}".format(1),
            lambda: "{0.__init__.__globals__}".format(self),
            lambda: "{.mro}".format(int),
            lambda: "{x.__class__}".format(x=1),
            lambda: "{0.__class__}".format_map({"0": 1}),
            lambda: str.format("{0.__class__}", 1),
            lambda: "{0:{1.__class__}}".format(1, 2),
            lambda: "{0.gi_frame}".format((i for i in ())),
            lambda: getattr("{0.__class__}", "format")(1),
        ]
        for t in tries:
            try:
                print("ESCAPED", t())
            except AttributeError as e:
                print("blocked", e)
        return {}

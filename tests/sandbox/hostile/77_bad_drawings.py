# expect: dropped
# Malformed debug drawings of every kind: each is dropped with a note in the
# log and the actions (throttle 1.0) still apply.
class Bot:
    def __init__(self):
        self.n = 0

    def on_tick(self, state):
        self.n = self.n + 1
        bad = [
            [("line", 0, 0, "x", 1)],                # wrong type
            [("circle", 0.0, 0.0, float("nan"))],    # NaN
            [("text", 0, 0, "x" * 65)],              # text too long
            [("text", 0, 0, "\ud800")],              # not UTF-8
            [("text", 0, 0, "a\x00b")],              # NUL inside
            [("line", 0, 0, 1, 1)] * 33,             # too many
            [("line", 0, 0, 1, 1, -1)],              # bad colour
            [("square", 0, 0)],                      # unknown kind
            "not a list",
            [None, 5, ("circle", 1, 1, 2)],
        ]
        return {"throttle": 1.0, "debug": bad[self.n % len(bad)]}

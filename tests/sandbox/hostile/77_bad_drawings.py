# expect: dropped
# log: 9 debug drawings dropped (item 0: debug drawing coordinates must be finite numbers)
# Malformed debug drawings of every kind: each is dropped with a note in the
# log, the good ones are kept, and the actions (throttle 1.0) still apply.
class Bot:
    def __init__(self):
        self.n = 0

    def on_tick(self, state):
        self.n = self.n + 1
        mixed = [
            ("line", 0, 0, "x", 1),            # wrong type
            ("circle", 0.0, 0.0, float("nan")),  # NaN
            ("text", 0, 0, "x" * 65),          # text too long
            ("text", 0, 0, "\ud800"),          # not UTF-8
            ("text", 0, 0, "a\x00b"),          # NUL inside
            ("line", 0, 0, 1, 1, -1),          # bad colour
            ("square", 0, 0),                  # unknown kind
            None,
            5,
            ("circle", 1, 1, 2),               # good: kept
        ]
        mixed = mixed[1:] + mixed[:1]
        cases = [mixed, [("line", 0, 0, 1, 1)] * 33, "not a list"]
        return {"throttle": 1.0, "debug": cases[(self.n - 1) % len(cases)]}

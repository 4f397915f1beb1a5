# expect: ok
# Every way Python binds a name, so bot check's NameError analysis has no
# false positives: module, class and function scopes, closures, globals,
# comprehensions, walrus, except/with/for/import targets, del.
import math
import coderally as cr
from random import random as rnd

LIMIT = 3
counter = 0


def helper(a, *rest, scale=2, **kw):
    inner = [a * scale for _ in rest]

    def nested():
        return inner, a, kw, LIMIT

    return nested()


def bump():
    global counter, later
    counter += 1
    later = counter


class Base:
    size = 4
    twice = size * 2
    names = [n for n in ("a", "b")]

    def __init__(self):
        self.total = Base.size + self.twice


class Bot(Base):
    kind: str = "bot"

    def __init__(self):
        super().__init__()
        self.seen = 0

    def on_tick(self, state):
        bump()
        v = later + counter
        try:
            w = 1 / 0
        except ZeroDivisionError as err:
            w = str(err)
        for i, (p, q) in enumerate([(1, 2)]):
            v += i + p + q
        if (m := len(state)) > 0:
            v += m
        total = sum(y for y in range(3) if y != v)
        table = {key: val for key, val in zip("ab", (1, 2))}
        lam = lambda t=v: t + total
        tmp = 5
        del tmp
        v += lam() + helper(1, 2)[1] + table["a"] + math.floor(rnd()) + len(cr.SURFACES)
        self.seen += 1
        return {"throttle": 1.0 if v else 0.5}

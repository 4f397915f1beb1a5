# expect: ok
# The fuller Python a bot may write, asserted: augmented assignment on
# items, slices and attributes, annotations, super(), special methods on
# its own classes, format/hex/bin/type, str.format, f-strings, cpu_used().
import math
import coderally


class Vec:
    def __init__(self, x: float, y: float):
        self.x = x
        self.y = y

    def __repr__(self):
        return "Vec(%g, %g)" % (self.x, self.y)

    def __eq__(self, other):
        return isinstance(other, Vec) and self.x == other.x and self.y == other.y

    def __hash__(self):
        return hash((self.x, self.y))

    def __add__(self, other):
        return Vec(self.x + other.x, self.y + other.y)

    def __lt__(self, other):
        return (self.x, self.y) < (other.x, other.y)

    def __len__(self):
        return 2

    def __iter__(self):
        return iter((self.x, self.y))

    def __getitem__(self, i):
        return (self.x, self.y)[i]

    def __contains__(self, v):
        return v in (self.x, self.y)


class Timer:
    def __enter__(self):
        self.t0 = coderally.cpu_used()
        return self

    def __exit__(self, kind, value, tb):
        self.spent = coderally.cpu_used() - self.t0
        return False


class Base:
    def __init__(self):
        self.n = 0
        self.counts = {}


class Bot(Base):
    speed_gain: float = 0.5

    def __init__(self):
        super().__init__()
        self.hist: list = []
        self.best: float = 0.0

    def on_tick(self, state):
        self.n += 1
        self.counts[state["surface"]] = self.counts.get(state["surface"], 0) + 1
        self.counts["ticks"] = self.counts.get("ticks", 0)
        self.counts["ticks"] += 1
        lst = [1, 2, 3]
        lst[0] -= 5
        lst[1:2] += [9]
        v = Vec(1, 2) + Vec(3, 4)
        assert v == Vec(4, 6) and len(v) == 2 and 6 in v and list(v) == [4, 6] and v[0] == 4
        s = "{} {:.2f} {x}".format(self.n, 1.5, x=hex(255)) + format(3.14159, ".1f") + bin(5)
        s2 = f"{v!r:>12}"
        assert type(1) is int and type(v) is Vec and type(Vec) is type
        with Timer() as t:
            total = sum(range(100))
        if self.n == 2:
            print(s, s2, lst, sorted([Vec(2, 1), Vec(1, 1)]), t.spent >= 0,
                  coderally.cpu_used() <= coderally.cpu_budget(), coderally.cpu_average())
        assert s == "%d 1.50 0xff3.10b101" % self.n, s
        assert s2 == "   Vec(4, 6)" and lst == [-4, 2, 9, 3] and self.counts["ticks"] == self.n
        assert "{0[a]} {0[b]!r}".format({"a": 1, "b": "x"}) == "1 'x'"
        return {"throttle": 1.0, "steer": 0.0}

# expect: blocked
# Augmented assignment on attributes and items goes through the same write
# guard: a foreign object stays read-only whatever __iadd__ returns.
import math
import coderally


class Evil:
    def __iadd__(self, other):
        return math


class Bot:
    def on_tick(self, state):
        e = Evil()
        e += 1
        try:
            e.pi += 1
            print("ESCAPED", math.pi)
        except TypeError as err:
            print("blocked", err)
        for f in (lambda: setattr(math, "pi", 3), ):
            try:
                f()
                print("ESCAPED")
            except TypeError as err:
                print("blocked", err)
        try:
            coderally.PI += 1
            print("ESCAPED", coderally.PI)
        except TypeError as err:
            print("blocked", err)
        try:
            t = coderally.SURFACES
            t[0] += "x"
            print("ESCAPED", t)
        except TypeError as err:
            print("blocked", err)
        return {}

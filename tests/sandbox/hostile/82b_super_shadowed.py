# expect: blocked
# A function named super does not get super()'s pass to special methods.
import math


def super(*args):
    return math


class Bot:
    def on_tick(self, state):
        try:
            super().__init__("hacked")
            print("ESCAPED", math)
        except AttributeError as e:
            print("blocked", e)
        return {}

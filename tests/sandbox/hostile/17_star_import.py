# expect: compile
from math import *
class Bot:
    def on_tick(self, state):
        print("ESCAPED")
        return {}

# expect: compile
# Import of os: only math, random and coderally exist for bots.
import os
class Bot:
    def on_tick(self, state):
        print("ESCAPED", os.listdir("/"))
        return {}

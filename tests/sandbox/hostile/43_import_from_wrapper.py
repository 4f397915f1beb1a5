# expect: compile
# line: 8
# Reaching sys or os through the allowed modules' import path: bot check
# (run on every load) refuses names the modules bots get do not have.
class Bot:
    def on_tick(self, state):
        try:
            from math import sys
            print("ESCAPED", sys)
        except Exception as e:
            print("blocked", e)
        try:
            from coderally import math
            print("ESCAPED", math)
        except Exception as e:
            print("blocked", e)
        return {}

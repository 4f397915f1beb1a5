# expect: compile
import sys
class Bot:
    def on_tick(self, state):
        print("ESCAPED", sys.modules)
        return {}

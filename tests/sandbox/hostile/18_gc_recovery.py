# expect: compile
import gc
class Bot:
    def on_tick(self, state):
        for o in gc.get_objects():
            print("ESCAPED", o)
        return {}

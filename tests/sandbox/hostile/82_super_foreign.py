# expect: blocked
# super() bound to objects the bot did not define does not reach special
# methods: no re-initialising a module through super(ModuleType, math).
import math


class Bot:
    def on_tick(self, state):
        try:
            super(type(math), math).__init__("hacked")
            print("ESCAPED", math)
        except AttributeError as e:
            print("blocked", e)
        try:
            super(type(""), "x").__init__()
            print("ESCAPED str init")
        except AttributeError as e:
            print("blocked", e)
        return {}


# expect: compile
from importlib import import_module
class Bot:
    def on_tick(self, state):
        print("ESCAPED", import_module("os"))
        return {}

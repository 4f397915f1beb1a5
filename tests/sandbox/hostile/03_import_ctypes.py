# expect: compile
import ctypes
class Bot:
    def on_tick(self, state):
        print("ESCAPED", ctypes.CDLL(None))
        return {}

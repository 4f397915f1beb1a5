# expect: blocked
import math
class Bot:
    def on_tick(self, state):
        try:
            math.pi = 3
            print("ESCAPED wrote math.pi")
        except Exception as e:
            print("blocked", e)
        try:
            setattr(math, "sqrt", None)
            print("ESCAPED setattr")
        except Exception as e:
            print("blocked", e)
        return {}

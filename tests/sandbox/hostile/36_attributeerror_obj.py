# expect: blocked
# CVE-2024-47532: AttributeError.obj hands out the object.
import math
class Bot:
    def on_tick(self, state):
        try:
            getattr(math, "nothing_here")  # math.nothing_here: refused by bot check
        except AttributeError as e:
            try:
                print("ESCAPED", e.obj)
            except Exception as e2:
                print("blocked", e2)
        return {}

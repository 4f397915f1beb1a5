# expect: blocked
# The helper module keeps the real math under "_m": unreachable.
import coderally
import random
class Bot:
    def on_tick(self, state):
        for obj, name in ((coderally, "_m"), (random.seed, "__self__"),
                          (coderally.vec, "__globals__")):
            try:
                print("ESCAPED", getattr(obj, name))
            except Exception as e:
                print("blocked", e)
        return {}

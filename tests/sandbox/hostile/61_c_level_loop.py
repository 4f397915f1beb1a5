# expect: crash
# One C-level call that never returns to the interpreter (sum over a range
# runs in C without checking for signals): the worker's hard CPU limit ends
# it and the host replaces the worker.
class Bot:
    def on_tick(self, state):
        print("ESCAPED", sum(range(10 ** 11)))
        return {}

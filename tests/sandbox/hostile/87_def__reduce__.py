# expect: compile
# __reduce__ is not among the special methods a bot class may define.
class Bot:
    def __reduce__(self, *args):
        print("ESCAPED __reduce__")
        return None

    def on_tick(self, state):
        return {}

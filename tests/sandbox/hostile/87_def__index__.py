# expect: compile
# __index__ is not among the special methods a bot class may define.
class Bot:
    def __index__(self, *args):
        print("ESCAPED __index__")
        return None

    def on_tick(self, state):
        return {}

# expect: compile
# __get__ is not among the special methods a bot class may define.
class Bot:
    def __get__(self, *args):
        print("ESCAPED __get__")
        return None

    def on_tick(self, state):
        return {}

# expect: compile
# __new__ is not among the special methods a bot class may define.
class Bot:
    def __new__(self, *args):
        print("ESCAPED __new__")
        return None

    def on_tick(self, state):
        return {}

# expect: compile
# __format__ is not among the special methods a bot class may define.
class Bot:
    def __format__(self, *args):
        print("ESCAPED __format__")
        return None

    def on_tick(self, state):
        return {}

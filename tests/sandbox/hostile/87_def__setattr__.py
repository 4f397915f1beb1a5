# expect: compile
# __setattr__ is not among the special methods a bot class may define.
class Bot:
    def __setattr__(self, *args):
        print("ESCAPED __setattr__")
        return None

    def on_tick(self, state):
        return {}

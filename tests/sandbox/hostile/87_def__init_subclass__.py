# expect: compile
# __init_subclass__ is not among the special methods a bot class may define.
class Bot:
    def __init_subclass__(self, *args):
        print("ESCAPED __init_subclass__")
        return None

    def on_tick(self, state):
        return {}

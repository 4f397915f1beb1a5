# expect: compile
# __del__ is not among the special methods a bot class may define.
class Bot:
    def __del__(self, *args):
        print("ESCAPED __del__")
        return None

    def on_tick(self, state):
        return {}

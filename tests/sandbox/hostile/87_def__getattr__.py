# expect: compile
# __getattr__ is not among the special methods a bot class may define.
class Bot:
    def __getattr__(self, *args):
        print("ESCAPED __getattr__")
        return None

    def on_tick(self, state):
        return {}

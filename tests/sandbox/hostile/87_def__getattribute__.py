# expect: compile
# __getattribute__ is not among the special methods a bot class may define.
class Bot:
    def __getattribute__(self, *args):
        print("ESCAPED __getattribute__")
        return None

    def on_tick(self, state):
        return {}

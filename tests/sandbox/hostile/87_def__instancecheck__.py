# expect: compile
# __instancecheck__ is not among the special methods a bot class may define.
class Bot:
    def __instancecheck__(self, *args):
        print("ESCAPED __instancecheck__")
        return None

    def on_tick(self, state):
        return {}

# expect: compile
class Bot:
    def on_tick(self, state):
        print("ESCAPED", __builtins__)
        return {}

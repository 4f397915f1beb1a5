# expect: compile
class Bot:
    def on_tick(self, state):
        print("ESCAPED", eval("1 + 1"))
        return {}

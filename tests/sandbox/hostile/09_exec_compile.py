# expect: compile
class Bot:
    def on_tick(self, state):
        exec(compile("x = open('@CANARY@').read()", "x", "exec"))
        print("ESCAPED")
        return {}

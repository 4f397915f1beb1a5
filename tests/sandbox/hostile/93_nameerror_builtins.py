# expect: compile
# line: 7
# Python builtins the sandbox does not give are reported by the check with
# their line, before anything runs.
class Bot:
    def on_tick(self, state):
        return {"throttle": len(vars(self))}

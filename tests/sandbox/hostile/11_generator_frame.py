# expect: compile
# GHSA-wqc8-x2pr-7jqh: generator frames up to the host's globals.
class Bot:
    def on_tick(self, state):
        g = (x for x in [1])
        print("ESCAPED", g.gi_frame.f_back.f_back.f_globals)
        return {}

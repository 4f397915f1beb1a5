# expect: blocked
# type() is available with one argument; what it returns is still behind the
# guards: mro() (which hands out BaseException) stays refused.
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", type(()).mro())
        except AttributeError as e:
            print("blocked", e)
        return {}

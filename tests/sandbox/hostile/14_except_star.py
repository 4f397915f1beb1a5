# expect: compile
# except* (ExceptionGroup handling) is refused by RestrictedPython.
class Bot:
    def on_tick(self, state):
        try:
            raise ValueError("x")
        except* ValueError as eg:
            print("ESCAPED", eg)
        return {}

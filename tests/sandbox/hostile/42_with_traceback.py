# expect: blocked
class Bot:
    def on_tick(self, state):
        try:
            raise ValueError("x")
        except ValueError as e:
            try:
                print("ESCAPED", e.with_traceback)
            except Exception as e2:
                print("blocked", e2)
        return {}

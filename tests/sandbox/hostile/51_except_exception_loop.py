# expect: timeout
class Bot:
    def on_tick(self, state):
        while True:
            try:
                while True:
                    pass
            except Exception:
                print("ESCAPED caught the timeout")

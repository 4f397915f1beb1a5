# expect: timeout
class Bot:
    def on_tick(self, state):
        while True:
            pass

# expect: error
class Bot:
    def on_tick(self, state):
        raise ValueError("deliberate")

# expect: compile
# Bot() never returns: the start-up budget ends the load.
class Bot:
    def __init__(self):
        while True:
            pass
    def on_tick(self, state):
        return {}

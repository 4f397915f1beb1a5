# expect: compile
# Special method names only directly in a class body.
def __init__(self):
    pass


class Bot:
    def on_tick(self, state):
        return {}

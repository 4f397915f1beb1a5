# expect: compile
class Bot:
    def on_tick(self, state):
        self.__class__: int = 1
        return {}

# expect: compile
class Bot:
    def on_tick(self, state):
        self.__dict__ += 1
        return {}

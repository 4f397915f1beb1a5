# expect: compile
class Meta:
    pass


class Bot(metaclass=Meta):
    def on_tick(self, state):
        return {}

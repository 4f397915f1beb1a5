# expect: compile
class Bot:
    def on_tick(self, state):
        print("ESCAPED", super().__self_class__, super().__class__)
        return {}

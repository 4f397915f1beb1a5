# expect: compile
# __reduce_ex__ is not among the special methods a bot class may define.
class Bot:
    def __reduce_ex__(self, *args):
        print("ESCAPED __reduce_ex__")
        return None

    def on_tick(self, state):
        return {}

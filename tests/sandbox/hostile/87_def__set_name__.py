# expect: compile
# __set_name__ is not among the special methods a bot class may define.
class Bot:
    def __set_name__(self, *args):
        print("ESCAPED __set_name__")
        return None

    def on_tick(self, state):
        return {}

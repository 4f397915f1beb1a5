# expect: compile
# __class_getitem__ is not among the special methods a bot class may define.
class Bot:
    def __class_getitem__(self, *args):
        print("ESCAPED __class_getitem__")
        return None

    def on_tick(self, state):
        return {}

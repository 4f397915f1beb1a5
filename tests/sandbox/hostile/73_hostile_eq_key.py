# expect: error
class K:
    def __eq__(self, other):
        print("ESCAPED __eq__ ran in the validator")
        return True

class Bot:
    def on_tick(self, state):
        return {K(): 1.0}

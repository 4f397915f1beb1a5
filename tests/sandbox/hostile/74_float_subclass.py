# expect: error
class F(float):
    def __lt__(self, other):
        print("ESCAPED __lt__ ran in the validator")
        return False

class Bot:
    def on_tick(self, state):
        return {"throttle": F(0.5)}

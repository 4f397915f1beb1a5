# expect: crash
class Bot:
    def __init__(self):
        self.hoard = []
    def on_tick(self, state):
        while True:
            self.hoard.append([0] * 2000000)

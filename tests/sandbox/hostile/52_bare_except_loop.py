# expect: timeout
# A bare except is compiled as `except Exception`: the timeout goes through.
class Bot:
    def on_tick(self, state):
        n = 0
        while True:
            try:
                n = n + 1
                [i for i in range(1000)]
            except:
                print("ESCAPED swallowed", n)

# expect: blocked
# mro() would hand out BaseException and let a bot catch its timeout.
class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", Exception.mro())
        except Exception as e:
            print("blocked", e)
        return {}

# expect: blocked
# A str subclass as attribute name (7.2 safer_getattr fix).
class S(str):
    def startswith(self, prefix):
        return False

class Bot:
    def on_tick(self, state):
        try:
            print("ESCAPED", getattr((), S("__class__")))
        except Exception as e:
            print("blocked", e)
        return {}

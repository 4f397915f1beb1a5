# expect: compile
# GHSA-ffg3-p8fm-mjx2: a positional-only parameter named like a guard hook
# would replace the guard inside the function.
def peek(obj, _getattr_=getattr, /):
    return obj.__class__

class Bot:
    def on_tick(self, state):
        print("ESCAPED", peek(()))
        return {}

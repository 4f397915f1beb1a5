# expect: compile
# match/case capture names bind without the name check: match is refused.
class Bot:
    def on_tick(self, state):
        match getattr:
            case _getattr_:
                print("ESCAPED", ().__class__)
        return {}

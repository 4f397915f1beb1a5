# expect: compile
# Generated at test time: a deeply nested expression that blows the parser.
x = @DEEP@
class Bot:
    def on_tick(self, state):
        return {}

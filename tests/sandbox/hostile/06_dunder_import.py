# expect: compile
# __import__ by name: names starting with "_" are refused.
class Bot:
    def on_tick(self, state):
        os = __import__("os")
        print("ESCAPED", os.getcwd())
        return {}

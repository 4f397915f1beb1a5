# expect: compile
import subprocess
class Bot:
    def on_tick(self, state):
        print("ESCAPED", subprocess.check_output(["cat", "@CANARY@"]))
        return {}

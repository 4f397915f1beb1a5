# expect: compile
import signal
class Bot:
    def on_tick(self, state):
        signal.signal(signal.SIGPROF, signal.SIG_IGN)
        print("ESCAPED")
        return {}

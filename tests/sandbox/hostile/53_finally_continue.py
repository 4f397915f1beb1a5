# expect: crash
# `finally: continue` swallows every exception, BotTimeout included: only
# the worker's hard CPU limit (and the host's kill behind it) ends this.
class Bot:
    def on_tick(self, state):
        while True:
            try:
                while True:
                    pass
            finally:
                continue

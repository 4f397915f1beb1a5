# expect: error
# Exact types: a bool is not a throttle, an int is not nitro.
class Bot:
    def on_tick(self, state):
        return {"throttle": True, "nitro": 1}

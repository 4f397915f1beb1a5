# expect: error
# log: unknown action key "<not UTF-8>"
# issue 6: an action key with no UTF-8 form (a lone surrogate) once reached
# printf's %s as NULL. It must be a clean error naming the key.
class Bot:
    def on_tick(self, state):
        return {"\ud800": 1.0}

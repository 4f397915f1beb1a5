# expect: timeout
# A huge power: CPython checks for signals inside long_pow, so the budget
# interrupts it and the bot survives.
class Bot:
    def on_tick(self, state):
        x = 10 ** 10 ** 8
        print("ESCAPED", x > 0)
        return {}

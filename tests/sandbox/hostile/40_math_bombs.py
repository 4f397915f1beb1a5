# expect: blocked
# utility_builtins would hand out the real math: factorial/comb are capped.
import math
class Bot:
    def on_tick(self, state):
        for f in (lambda: math.factorial(10 ** 7), lambda: math.comb(10 ** 8, 5 * 10 ** 7)):
            try:
                print("ESCAPED", f() > 0)
            except Exception as e:
                print("blocked", e)
        return {}

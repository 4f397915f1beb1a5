# expect: ok
# coderally.cpu_used() / cpu_budget() / cpu_average(): the budget of the
# running call (start-up budget in __init__, tick budget in on_tick), CPU
# used so far growing with work and within the budget, the average of the
# previous ticks.
import coderally


class Bot:
    def __init__(self):
        assert coderally.cpu_budget() == 1000.0, coderally.cpu_budget()
        self.n = 0

    def on_tick(self, state):
        self.n += 1
        assert coderally.cpu_budget() == 10.0, coderally.cpu_budget()
        avg = coderally.cpu_average()
        if self.n == 1:
            assert avg == 0.0, avg
        else:
            assert 0.0 < avg < 10.0, avg
        t0 = coderally.cpu_used()
        x = 0
        for i in range(20000):
            x += i
        t1 = coderally.cpu_used()
        assert 0.0 <= t0 < t1 < 10.0, (t0, t1)
        return {"throttle": 1.0}

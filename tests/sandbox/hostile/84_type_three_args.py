# expect: blocked
# The three-argument type() builds a class past the sandbox's metaclass (so
# with __del__, __getattr__, ...): refused however type is reached.
def boom(self):
    print("ESCAPED __del__ ran")


class Bot:
    def on_tick(self, state):
        for t in (type, type(type(1)), type(Bot), type(type(type(1)))):
            try:
                k = t("K", (), {"__del__": boom})
                print("ESCAPED", k)
            except TypeError as e:
                print("blocked", e)
        return {}

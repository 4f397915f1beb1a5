# expect: compile
class Bot:
    def on_tick(self, state):
        try:
            1 / 0
        except Exception as e:
            print("ESCAPED", e.__traceback__.tb_frame.f_globals)
        return {}

# expect: compile
class Bot:
    async def helper(self):
        return 1
    def on_tick(self, state):
        c = self.helper()
        print("ESCAPED", c.cr_frame)
        return {}

# A newcomer's bot, written from docs/BOT_API.md alone (tests/integration/newcomer/README.md).
import math
import coderally


class Smoother:
    """Exponential moving average with special methods and augmented assignment."""

    def __init__(self, k):
        self.k = k
        self.value = 0.0
        self.n = 0

    def __iadd__(self, sample):
        if self.n == 0:
            self.value = float(sample)
        else:
            self.value += self.k * (sample - self.value)
        self.n += 1
        return self

    def __len__(self):
        return self.n

    def __repr__(self):
        return "Smoother({:.2f}, n={})".format(self.value, self.n)

    def __bool__(self):
        return self.n > 0


class Bot:
    def __init__(self):
        runs = self.memory.get("runs", 0)
        self.memory["runs"] = runs + 1
        self.memory["budget_ms"] = coderally.cpu_budget()
        self.slip = Smoother(0.3)
        self.cp_times = []
        self.hits = 0
        self.stuck_ticks = 0
        self.reverse_ticks = 0
        self.started = False
        self.unknown = set()
        self.gate_index = -1
        self.gate_min = 1e9

    def on_start(self, event):
        self.started = True

    def on_checkpoint(self, event):
        self.cp_times.append(event["time"])
        print("checkpoint", event["checkpoint"], "at", format(event["time"], ".2f"))

    def on_collision(self, event):
        self.hits += 1

    def on_finish(self, event):
        best = self.memory.get("best")
        if event["finished"] and (best is None or event["time"] < best):
            self.memory["best"] = event["time"]
        self.memory["hits"] = self.hits
        print("finish", event, repr(self.slip))

    def grip_of(self, name):
        table = {"asphalt": 1.0, "gravel": 0.68, "ice": 0.22, "offroad": 0.5}
        if name not in table and name not in self.unknown:
            self.unknown.add(name)
            print("unknown surface", name, "known:", coderally.SURFACES)
        return table.get(name, 0.6)

    def on_tick(self, state):
        if state["phase"] != "running":
            return {"throttle": 0.0}
        self.slip += abs(state["v_left"])

        # Target: road centre of a pace note, farther at speed.
        pace = state["pace"]
        sharp = max(abs(n["curvature"]) for n in pace[:3])
        idx = 0 if sharp > 0.04 or not state["on_road"] else (1 if state["speed"] < 20 else 2)
        target = pace[idx]
        # A gate missed (passed off the road) stays next: go back through it.
        cps = state["checkpoints"]
        if cps:
            gate = cps[0]
            if gate["index"] != self.gate_index:
                self.gate_index, self.gate_min = gate["index"], gate["distance"]
            self.gate_min = min(self.gate_min, gate["distance"])
            if self.gate_min < 12.0 and gate["distance"] > self.gate_min + 8.0:
                target = gate
        steer = coderally.steer_towards(target["bearing"], 2.5)
        # Keep off the edges using the side rays.
        rays = state["rays"]
        steer += 0.02 * (rays[6] - rays[2])
        steer = coderally.clamp(steer, -1.0, 1.0)

        # Safe speed from the sharpest curvature ahead and the grip.
        grip = self.grip_of(state["surface"])
        limit = 80.0
        for note in pace:
            g = min(grip, self.grip_of(note["surface"]))
            k = abs(note["curvature"])
            if k > 1e-4:
                v = math.sqrt(6.0 * g / k)
                # Allow for braking distance.
                v = math.sqrt(v * v + 2.0 * 6.0 * g * max(0.0, note["ahead"] - 10.0))
                limit = min(limit, v)
        if rays[4] < 25.0:
            limit = min(limit, 12.0)

        throttle, brake = 1.0, 0.0
        if state["speed"] > limit + 2.0:
            throttle, brake = 0.0, 0.6
        elif state["speed"] > limit:
            throttle = 0.2

        # Check with predict whether the car would run off the road soon.
        if coderally.cpu_used() < 0.3 * coderally.cpu_budget():
            p = coderally.predict(state, {"throttle": throttle, "brake": brake, "steer": steer}, 30)
            if p["sliding"] and throttle > 0.5:
                throttle = 0.5

        # Stuck: reverse for a second.
        if state["speed"] < 1.0 and state["time"] > 3.0:
            self.stuck_ticks += 1
        else:
            self.stuck_ticks = 0
        if self.stuck_ticks > 40:
            self.reverse_ticks = 20
            self.stuck_ticks = 0
        if self.reverse_ticks > 0:
            self.reverse_ticks -= 1
            return {"brake": 1.0, "steer": -steer}

        nitro = state["nitro_charges"] > 0 and limit >= 60 and rays[4] >= 150 and state["nitro_time"] == 0

        actions = {"throttle": throttle, "brake": brake, "steer": steer, "nitro": nitro}
        x, y = state["x"], state["y"]
        tx, ty = coderally.to_world(state, target["forward"], target["left"])
        actions["debug"] = [("line", x, y, tx, ty, 0x00ff00),
                            ("text", x, y + 2.0, "v<{:.0f}".format(limit))]
        if state["checkpoints"]:
            cp = state["checkpoints"][0]
            cx, cy = coderally.to_world(state, cp["forward"], cp["left"])
            actions["debug"].append(("circle", cx, cy, cp["width"] / 2.0, 0xffff00))
        return actions

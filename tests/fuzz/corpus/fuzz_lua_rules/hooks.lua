-- Every hook, points and a few host calls: a rules file that does a bit of everything.
local seen = {}
return {
    name = "fuzz",
    countdown_s = 1,
    time_limit_s = function(stage) return 10 + stage.length / 20 end,
    stall_limit_s = 5,
    on_checkpoint = function(ev)
        seen[#seen + 1] = ev.checkpoint
        return ev.split_s > 4 and 0.5 or 0
    end,
    on_collision = function(ev)
        if ev.other < 0 then return ev.impulse / 10000 end
        return 0
    end,
    on_finish = function(ev) return math.max(0, ev.offtrack_s - 1) end,
    points = function(results)
        local out = {}
        for i, r in ipairs(results) do out[i] = r.finished and (10 - r.position) or 0 end
        return out
    end,
}

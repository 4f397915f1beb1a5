-- clean.lua - a newcomer's rule set written from docs/MODDING.md only.
local base = {
    name = "clean",
    description = "Hard hits and cutting cost time; points for the top ten.",
    version = "1",
    countdown_s = 2,
    time_limit_s = function(stage) return 90 + stage.length / 6 end,
    stall_limit_s = 20,
}

-- One second for every hit harder than 8000 kg*u/s.
base.on_collision = function(ev)
    if ev.impulse > 8000 then return 1.0 end
end

-- Half the time spent off the road since the last gate.
base.on_checkpoint = function(ev)
    if ev.offtrack_s > 0.5 then return ev.offtrack_s / 2 end
    return 0
end

base.on_finish = function(_) return nil end

base.points = function(results)
    local table_ = { 25, 18, 15, 12, 10, 8, 6, 4, 2, 1 }
    local out = {}
    for i, r in ipairs(results) do
        out[i] = (r.finished and table_[r.position]) or 0
    end
    return out
end

return base

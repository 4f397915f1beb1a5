-- The standard rally rules: a 3-second countdown, a time limit that grows
-- with the stage, DNF for a car that stops making progress, a penalty for
-- cutting (long stretches off the road between checkpoints) and points for
-- the finishing order.

-- Seconds off the road between two checkpoints that are forgiven.
local CUT_ALLOWANCE_S = 2.0
-- Penalty per second off the road beyond that.
local CUT_PENALTY_PER_S = 0.5

local POINTS = { 25, 18, 15, 12, 10, 8, 6, 4, 2, 1 }

return {
    name = "fuzz",
    countdown_s = 3,

    -- A generous limit: a slow but steady car (8 u/s) still finishes.
    time_limit_s = function(stage)
        return math.min(3600, 60 + stage.length / 8)
    end,

    stall_limit_s = 30,

    on_checkpoint = function(ev)
        local over = ev.offtrack_s - CUT_ALLOWANCE_S
        if over > 0 then return over * CUT_PENALTY_PER_S end
        return 0
    end,

    on_finish = function(ev)
        local over = ev.offtrack_s - CUT_ALLOWANCE_S
        if over > 0 then return over * CUT_PENALTY_PER_S end
        return 0
    end,

    -- Points by position for finishers; nothing for a DNF.
    points = function(results)
        local out = {}
        for i, r in ipairs(results) do
            out[i] = r.finished and (POINTS[r.position] or 0) or 0
        end
        return out
    end,
}

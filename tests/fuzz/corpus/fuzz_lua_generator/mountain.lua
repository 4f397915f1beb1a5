--[[
mountain.lua - a mountain pass: an asphalt valley road, a switchback climb
on gravel (a zigzag of hairpins, each turning 162-174 degrees), a twisty
summit with a little ice, a switchback descent, and an asphalt run-out.

The route is grown phase by phase with the shared route kit
(scripts/lib/route.lua); see docs/MODDING.md for the contract.
]]

-- rally (rng, limits, surfaces) and import are the host's builtins.

-- The route kit shared by the shipped generators (scripts/lib/route.lua).
local route = import("route")

local min, max = math.min, math.max
local floor, pi, rad = math.floor, math.pi, math.rad

-- Lays out one mountain stage. The phases, in order: valley corners,
-- climb (one switchback series), summit corners, descent (another
-- series), run-out corners, finish straight. A series is placed whole:
-- it is a chain of straight legs at 81-87 degrees either side of the
-- stage's general direction joined by hairpins, so every leg gains a
-- little ground and each hairpin a full diameter, and the legs never come
-- back onto each other. gentle drops the series and keeps every heading
-- within 40 degrees of the start's, which cannot self-overlap (the
-- last-resort layout, which always fits). Returns the route and the final
-- planner state (the phases' start distances), or nil if the search gives up.
local function mountain_route(rng, limits, width_at, plan, dir0, gentle)
    local target, finish = plan.target, plan.finish
    local lim = rad(gentle and 40 or 60)
    local rmin = (min(12, limits.max_width) / 2 + 1 + route.TURN_SLACK) / 0.7
    local clear = 2 * limits.verge + 2   -- between two roads: both verges and 2 u

    -- Corners until the phase ends `left` u from here.
    local function corners(rt, left, attempt, tight)
        local hr = route.wrap(rt.h - dir0)
        local lean = attempt <= 2 and 0.35 or 0.5
        local slot = min(left, rng:range(60, 140))
        local a = rad(rng:range(25, 100))
        local r = tight and rng:range(16, 35) or rng:range(25, 70)
        r = max(r, rmin)
        if r * a > 0.8 * slot then
            r = max(rmin, 0.8 * slot / a)
            a = min(a, 0.8 * slot / r)
        end
        local side
        side, a = route.pick_turn(rng, hr, a, lim, lean)
        local extra = attempt <= 2 and 0 or 20 * (attempt - 2)
        local gap = max(0, slot - r * a) * rng:range(0.5, 1.2) + extra
        local pieces = { { "s", gap }, { "a", r, side * a } }
        route.pieces_fit(pieces, left)
        return pieces
    end

    -- A switchback series of up to count hairpins from here, entry and
    -- exit corners included, fitting in room u: fewer hairpins if they do
    -- not fit. Later attempts switch sides and widen the hairpins.
    local function series(rt, count, room, attempt)
        local hr = route.wrap(rt.h - dir0)
        -- The first leg carries on the way the road already leans, away
        -- from the road just driven.
        local side = hr >= 0 and 1 or -1
        if attempt % 2 == 0 then side = -side end
        local grow = (attempt - 1) * 0.75
        for n = count, 1, -1 do
            local pieces = {}
            local at = route.length(rt)
            local hd = side * (pi / 2 - rad(rng:range(3, 9)))
            pieces[#pieces + 1] = { "a", max(rmin, rng:range(20, 35)), hd - hr }
            pieces[#pieces + 1] = { "s", plan.leg * rng:range(0.4, 0.6) }
            for k = 1, n do
                -- Legs either side of a hairpin end 2r apart: r covers
                -- both roads, their verges and the host's 2 u, measured at
                -- the widest the road gets around here.
                local d = at + route.pieces_length(pieces)
                local w = max(width_at(d), width_at(d + 25), width_at(d + 50)) + 0.5
                local r = (w + clear + route.SLACK) / 2 + rng:range(1.5, 3) + grow
                local hd2 = (hd > 0 and -1 or 1) * (pi / 2 - rad(rng:range(3, 9)))
                pieces[#pieces + 1] = { "a", r, hd2 - hd }
                hd = hd2
                -- Full legs cross from side to side; the last, like the
                -- first, only goes from the middle out.
                local leg = plan.leg * (k < n and rng:range(0.8, 1.2) or rng:range(0.4, 0.6))
                pieces[#pieces + 1] = { "s", leg }
            end
            local out = rad(rng:range(-25, 25))
            pieces[#pieces + 1] = { "a", max(rmin, rng:range(20, 40)), out - hd }
            if route.pieces_length(pieces) <= room then return pieces, n end
        end
        return {}, 0
    end

    local function propose(rt, st, attempt)
        local done = route.length(rt)
        local ph = st.phase
        local nxt = {}
        for k, v in pairs(st) do nxt[k] = v end
        if ph == "valley" or ph == "summit" or ph == "runout" then
            local stop = ph == "runout" and target - finish or st.stop
            local left = stop - done
            if left >= 25 then return corners(rt, left, attempt, ph == "summit"), nxt, false end
            if ph == "runout" then return { { "s", target - done } }, st, true end
            -- On to the next series (or straight to the corners after it).
            nxt.phase = ph == "valley" and "climb" or "descent"
            nxt[ph .. "_to"] = done
            return {}, nxt, false
        end
        -- A series, then the corners after it.
        local count = ph == "climb" and plan.up or plan.down
        local pieces = {}
        if count > 0 and not gentle then
            -- Leave the summit and run-out at least a corner or two.
            local room = target - finish - done - (ph == "climb" and 120 or 40)
            pieces = series(rt, count, room, attempt)
        end
        local len = route.pieces_length(pieces)
        if ph == "climb" then
            nxt.phase, nxt.summit_from = "summit", done + len
            nxt.stop = done + len + plan.summit
        else
            nxt.phase, nxt.runout_from = "runout", done + len
        end
        return pieces, nxt, false
    end

    local budget = floor(target / 3) * (gentle and 40 or 25)
    local rt = route.new(limits, width_at, dir0, budget)
    -- The start grid: nothing earlier to run into, so it always fits.
    assert(route.straight(rt, route.GRID_LEN + rng:range(0, 20)))
    local st = route.build(rt, { phase = "valley", stop = route.length(rt) + plan.valley },
                            propose, 40)
    if not st then return nil end
    return rt, st
end

local function generate(seed, p)
    local limits = rally.limits
    local rng = rally.rng(seed)
    -- Parameter overrides arrive as floats; counts are rounded here.
    local hairpins = floor(p.hairpins + 0.5)
    local up = route.clamp(floor(hairpins * p.climb + 0.5), 0, hairpins)
    local target = route.clamp(p.length, limits.min_length + 20, limits.max_length - 20)
    local dir0 = rng:range(-pi, pi)
    local width_at = route.width(rng, limits, p.width, 1.0, 8, 12, target)

    -- Share the length out: about 55% to the switchbacks (legs 40-130 u),
    -- the rest to valley, summit and run-out corners.
    local finish = rng:range(50, 80)
    local free = target - route.GRID_LEN - 10 - finish
    local function fixed(n) return n > 0 and 90 + 44 * n or 0 end
    local fixed_len = fixed(up) + fixed(hairpins - up)
    local leg = hairpins > 0 and route.clamp((0.55 * free - fixed_len) / hairpins, 40, 130) or 0
    local corners = max(0, free - fixed_len - hairpins * leg)
    local plan = {
        target = target, finish = finish, leg = leg, up = up, down = hairpins - up,
        valley = corners * rng:range(0.25, 0.35), summit = corners * rng:range(0.25, 0.35),
    }

    -- A second try draws fresh numbers, so it is a different layout.
    local rt, st = mountain_route(rng, limits, width_at, plan, dir0, false)
    if not rt then rt, st = mountain_route(rng, limits, width_at, plan, dir0, false) end
    if not rt then rt, st = mountain_route(rng, limits, width_at, plan, dir0, true) end
    assert(rt, "mountain: no layout fits (limits too tight?)")

    -- Surfaces follow the phases: asphalt in the valley and on the run-out,
    -- gravel from the foot of the climb to the foot of the descent, and a
    -- few short ice patches around the summit.
    local total = route.length(rt)
    local climb_from = st.valley_to or total * 0.3
    local summit_from = st.summit_from or total * 0.45
    local summit_to = st.summit_to or total * 0.6
    local runout_from = st.runout_from or total * 0.75
    local ice = route.stretches(rng, limits, floor(p.ice + 0.5), 20, 50,
                                max(climb_from + 30, summit_from - 60),
                                min(runout_from - 30, summit_to + 60), 30)
    local function surface_at(d)
        if d < climb_from or d >= runout_from then return "asphalt" end
        return route.in_stretch(ice, d) and "ice" or "gravel"
    end
    return route.stage(rt, limits, surface_at)
end

return {
    name = "fuzz",
    version = "1",
    description = "Mountain pass: asphalt valley, switchback climb of hairpins on gravel, "
        .. "icy summit, switchback descent, asphalt run-out.",
    params = {
        length = { default = 2200, min = 1500, max = 2800,
                   description = "route length (u), kept within the host's stage length limits" },
        hairpins = { default = 6, min = 2, max = 8,
                     description = "hairpins (162-174 degrees), climb and descent together" },
        climb = { default = 0.6, min = 0, max = 1,
                  description = "share of the hairpins on the climb; the rest are on the descent" },
        width = { default = 10, min = 8, max = 12,
                  description = "mean road width (u); it varies by up to 1 u, within 8..12" },
        ice = { default = 2, min = 0, max = 4,
                description = "number of ice patches (20-50 u) around the summit" },
    },
    generate = generate,
}

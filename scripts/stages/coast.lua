--[[
coast.lua - a fast coastal road: wide asphalt (12-16 u), long straights
with barely-there kinks, long sweepers, double-apex bends and the odd
tighter headland, with ice patches where the spray freezes.

The route is grown bend by bend with the shared route kit
(scripts/lib/route.lua); see docs/MODDING.md for the contract.
]]

-- rally (rng, limits, surfaces) and import are the host's builtins.

-- The route kit shared by the shipped generators (scripts/lib/route.lua).
local route = import("route")

local abs, min, max = math.abs, math.min, math.max
local floor, pi, rad = math.floor, math.pi, math.rad

-- Lays out one coast stage: the route, or nil if the search gives up.
-- gentle keeps every heading within 40 degrees of the start's: each step
-- then gains ground along the start direction, so the road cannot come
-- back near itself (the last-resort layout, which always fits).
local function coast_route(rng, p, limits, width_at, target, dir0, gentle)
    local lim = rad(gentle and 40 or 85)
    local finish = rng:range(60, 100)
    -- The tightest radius the widest road allows, with room for the host's
    -- radius rule where a bend meets a straight of shorter steps.
    local rmin = (min(16, limits.max_width) / 2 + 1 + route.TURN_SLACK) / 0.7

    -- A bend of about `share` u of route: arc at most 85% of it. Mostly
    -- long sweepers; now and then a tighter bend round a headland.
    local function bend(hr, share, lean)
        local a, r
        if rng:chance(0.2) then
            a, r = rad(rng:range(50, 110)), rng:range(40, 70)
        else
            a, r = rad(rng:range(15, 80)), rng:range(80, 260)
        end
        if r * a > 0.85 * share then
            r = max(max(40, rmin), 0.85 * share / a)
            a = min(a, 0.85 * share / r)
        end
        local side
        side, a = route.pick_turn(rng, hr, a, lim, lean)
        return r, side * a
    end

    local function propose(rt, st, attempt)
        local done = route.length(rt)
        local left = target - finish - done
        if left < 20 or st.bends <= 0 then
            return { { "s", target - done } }, st, true
        end
        local hr = route.wrap(rt.h - dir0)
        -- Later attempts lean harder towards the general direction and
        -- leave more room before turning: what usually frees a blocked spot.
        local lean = attempt <= 2 and 0.3 or 0.5
        local extra = attempt <= 2 and 0 or 30 * (attempt - 2)
        local slot = left / st.bends
        local two = st.bends >= 2 and attempt < 6 and rng:chance(0.45)
        local pieces = {}
        local r1, a1 = bend(hr, slot, lean)
        local gap = max(0, slot - r1 * abs(a1)) * rng:range(0.5, 1.5) + extra
        -- A long straight gets a kink: a degree or ten over a few hundred
        -- metres of radius, taken flat out but it keeps the eyes busy.
        if gap > 120 and rng:chance(0.6) then
            local g, h = route.kink(rng, pieces, gap, hr, lim, lean, 300, 600, 3, 10)
            if g then
                gap, hr = g, h
                r1, a1 = bend(hr, slot, lean)
            end
        end
        pieces[#pieces + 1] = { "s", gap }
        pieces[#pieces + 1] = { "a", r1, a1 }
        if two then
            -- A double-apex bend (same way again after a short straight)
            -- or an S of sweepers (the other way).
            local hr2 = hr + a1
            local side = a1 > 0 and 1 or -1
            local link = rng:range(5, 25)
            if rng:chance(0.5) then
                side = -side
                link = rng:range(0, 40)
            end
            local r2 = max(max(40, rmin), r1 * rng:range(0.6, 1.3))
            local a2 = min(rad(rng:range(15, 70)), max(0, lim - side * hr2), 0.85 * slot / r2)
            pieces[#pieces + 1] = { "s", link }
            pieces[#pieces + 1] = { "a", r2, side * a2 }
        end
        route.pieces_fit(pieces, left)
        return pieces, { bends = st.bends - (two and 2 or 1) }, false
    end

    local budget = floor(target / 3) * (gentle and 40 or 25)
    local rt = route.new(limits, width_at, dir0, budget)
    -- The start grid: nothing earlier to run into, so it always fits.
    assert(route.straight(rt, route.GRID_LEN + rng:range(0, 30)))
    if not route.build(rt, { bends = p.bends }, propose, 40) then return nil end
    return rt
end

local function generate(seed, p)
    local limits = rally.limits
    local rng = rally.rng(seed)
    -- Parameter overrides arrive as floats; counts are rounded here.
    p = {
        length = p.length,
        bends = floor(p.bends + 0.5),
        width = p.width,
        ice_patches = floor(p.ice_patches + 0.5),
        ice_length = p.ice_length,
    }
    local target = route.clamp(p.length, limits.min_length + 20, limits.max_length - 20)
    local dir0 = rng:range(-pi, pi)
    local width_at = route.width(rng, limits, p.width, 1.0, 12, 16, target)
    local ice = route.stretches(rng, limits, p.ice_patches, 30, p.ice_length,
                                route.GRID_LEN + 100, target - 100, 80)
    local function surface_at(d)
        return route.in_stretch(ice, d) and "ice" or "asphalt"
    end
    -- A second try draws fresh numbers, so it is a different layout.
    local rt = coast_route(rng, p, limits, width_at, target, dir0, false)
        or coast_route(rng, p, limits, width_at, target, dir0, false)
        or coast_route(rng, p, limits, width_at, target, dir0, true)
    assert(rt, "coast: no layout fits (limits too tight?)")
    return route.stage(rt, limits, surface_at)
end

return {
    name = "coast",
    version = "1",
    description = "Fast, wide asphalt coastal road: long straights and sweepers, "
        .. "double-apex bends, the odd tight headland, and ice patches.",
    params = {
        length = { default = 2500, min = 2000, max = 3000,
                   description = "route length (u), kept within the host's stage length limits" },
        bends = { default = 12, min = 4, max = 24,
                  description = "number of bends (double-apex bends and S-sweeps count two)" },
        width = { default = 14, min = 12, max = 16,
                  description = "mean road width (u); it varies by up to 1 u, within 12..16" },
        ice_patches = { default = 4, min = 0, max = 10,
                        description = "number of ice patches, spread along the stage" },
        ice_length = { default = 80, min = 40, max = 120,
                       description = "longest ice patch (u); each is 30..ice_length u long" },
    },
    generate = generate,
}

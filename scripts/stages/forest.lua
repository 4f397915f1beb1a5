--[[
forest.lua - a twisty gravel forest stage: a narrow road (8-11 u) that
never stays straight for long, medium corners, S-bends and tightening
pairs, with the odd short stretch of asphalt.

The route is grown corner by corner with the shared route kit
(scripts/lib/route.lua); see docs/MODDING.md for the contract.
]]

-- rally (rng, limits, surfaces) and import are the host's builtins.

-- The route kit shared by the shipped generators (scripts/lib/route.lua).
local route = import("route")

local abs, min, max = math.abs, math.min, math.max
local floor, pi, rad = math.floor, math.pi, math.rad

-- Lays out one forest stage: the route, or nil if the search gives up.
-- gentle keeps every heading within 40 degrees of the start's: each step
-- then gains ground along the start direction, so the road cannot come
-- back near itself (the last-resort layout, which always fits).
local function forest_route(rng, p, limits, width_at, target, dir0, gentle)
    local t = p.tightness
    local rlo, rhi = 30 - 16 * t, 75 - 33 * t
    -- The tightest radius any point's width allows, with room for the host's
    -- radius rule where a corner meets a straight of shorter steps.
    local rmin = (min(11, limits.max_width) / 2 + 1 + route.TURN_SLACK) / 0.7
    rlo = max(rlo, rmin)
    local lim = rad(gentle and 40 or 110)
    local finish = rng:range(50, 80)

    -- A corner of about `share` u of route: arc at most 80% of it.
    local function corner(hr, share, lean)
        local a = rad(rng:range(30, 115))
        if rng:chance(0.12) then a = rad(rng:range(115, 160)) end
        local r = rng:range(rlo, rhi)
        if r * a > 0.8 * share then
            r = max(rmin, 0.8 * share / a)
            a = min(a, 0.8 * share / r)
        end
        local side
        side, a = route.pick_turn(rng, hr, a, lim, lean)
        return r, side * a
    end

    local function propose(rt, st, attempt)
        local done = route.length(rt)
        local left = target - finish - done
        if left < 15 or st.corners <= 0 then
            return { { "s", target - done } }, st, true
        end
        local hr = route.wrap(rt.h - dir0)
        -- Later attempts lean harder towards the general direction and
        -- leave more room before turning: what usually frees a blocked spot.
        local lean = attempt <= 2 and 0.35 or 0.5
        local extra = attempt <= 2 and 0 or 20 * (attempt - 2)
        local slot = left / st.corners
        local pair = st.corners >= 2 and attempt < 6 and rng:chance(0.35)
        local pieces = {}
        local r1, a1 = corner(hr, slot, lean)
        local gap = max(0, slot - r1 * abs(a1)) * rng:range(0.4, 1.6) + extra
        -- Forest roads are rarely straight for long: a long run before the
        -- corner gets a gentle kink that does not count as a corner.
        if gap > 70 and rng:chance(0.7) then
            local g, h = route.kink(rng, pieces, gap, hr, lim, lean, 60, 120, 8, 20)
            if g then
                gap, hr = g, h
                r1, a1 = corner(hr, slot, lean)
            end
        end
        pieces[#pieces + 1] = { "s", gap }
        pieces[#pieces + 1] = { "a", r1, a1 }
        if pair then
            -- An S-bend (the other way) or a tightening second apex.
            local hr2 = hr + a1
            local r2, a2, side
            if rng:chance(0.6) then
                r2 = max(rmin, r1 * rng:range(0.7, 1.2))
                side = a1 > 0 and -1 or 1
                a2 = rad(rng:range(30, 100))
            else
                r2 = max(rmin, r1 * rng:range(0.45, 0.75))
                side = a1 > 0 and 1 or -1
                a2 = rad(rng:range(20, 70))
            end
            a2 = min(a2, max(0, lim - side * hr2), 0.8 * slot / r2)
            pieces[#pieces + 1] = { "s", rng:range(0, 12) }
            pieces[#pieces + 1] = { "a", r2, side * a2 }
        end
        route.pieces_fit(pieces, left)
        return pieces, { corners = st.corners - (pair and 2 or 1) }, false
    end

    local budget = floor(target / 3) * (gentle and 40 or 25)
    local rt = route.new(limits, width_at, dir0, budget)
    -- The start grid: nothing earlier to run into, so it always fits.
    assert(route.straight(rt, route.GRID_LEN + rng:range(0, 20)))
    if not route.build(rt, { corners = p.corners }, propose, 40) then return nil end
    return rt
end

local function generate(seed, p)
    local limits = rally.limits
    local rng = rally.rng(seed)
    -- Parameter overrides arrive as floats; counts are rounded here.
    p = {
        length = p.length,
        corners = floor(p.corners + 0.5),
        width = p.width,
        asphalt = p.asphalt,
        tightness = p.tightness,
    }
    local target = route.clamp(p.length, limits.min_length + 20, limits.max_length - 20)
    local dir0 = rng:range(-pi, pi)
    local width_at = route.width(rng, limits, p.width, 1.0, 8, 11, target)
    local tarmac = route.stretches(rng, limits, floor(p.asphalt * target / 130 + 0.5), 60, 200,
                                   route.GRID_LEN + 60, target - 120, 60)
    local function surface_at(d)
        return route.in_stretch(tarmac, d) and "asphalt" or "gravel"
    end
    -- A second try draws fresh numbers, so it is a different layout.
    local rt = forest_route(rng, p, limits, width_at, target, dir0, false)
        or forest_route(rng, p, limits, width_at, target, dir0, false)
        or forest_route(rng, p, limits, width_at, target, dir0, true)
    assert(rt, "forest: no layout fits (limits too tight?)")
    return route.stage(rt, limits, surface_at)
end

return {
    name = "forest",
    version = "1",
    description = "Twisty gravel forest stage: narrow road, many medium corners, "
        .. "S-bends and tightening pairs, short asphalt sections.",
    params = {
        length = { default = 1900, min = 1400, max = 2400,
                   description = "route length (u), kept within the host's stage length limits" },
        corners = { default = 18, min = 6, max = 30,
                    description = "number of corners (S-bends and tightening pairs count two)" },
        width = { default = 9.5, min = 8, max = 11,
                  description = "mean road width (u); it varies by up to 1 u, within 8..11" },
        asphalt = { default = 0.15, min = 0, max = 0.4,
                    description = "share of the route in short asphalt sections (60-200 u each)" },
        tightness = { default = 0.5, min = 0, max = 1,
                      description = "corner radii: 0 = open (30-75 u), 1 = tight (14-42 u)" },
    },
    generate = generate,
}

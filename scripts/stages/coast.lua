--[[
coast.lua - a fast coastal road: wide asphalt (12-16 u), long straights
with barely-there kinks, long sweepers, double-apex bends and the odd
tighter headland, with ice patches where the spray freezes.

The route is grown bend by bend; see docs/MODDING.md ("Stage generators")
for the contract and for how the route kit below works.
]]

-- luacheck: read globals rally
-- (rally is the host's: rng, limits, surfaces; the only non-standard global.)

-- ==== route kit ============================================================
-- The same helpers open every shipped generator (forest, coast, mountain):
-- the sandbox has no require, so each file carries its own copy. Change
-- them in all three files at once.

local abs, min, max = math.abs, math.min, math.max
local floor, ceil = math.floor, math.ceil
local sin, cos, pi = math.sin, math.cos, math.pi
local rad = math.rad

local CELL = 32          -- u, side of a spatial-hash cell
local KEY = 1 << 24      -- cell key = cx * KEY + cy (|cy| stays far below)
local SLACK = 0.5        -- u of clearance kept beyond what the host demands
local TURN_SLACK = 0.25  -- u of turn radius kept beyond the host's minimum
local GRID_LEN = 100     -- u of straight, wide road at the start
local GRID_BLEND = 80    -- u over which the start's width eases into the stage's
local GRID_WIDTH = 10.5  -- u; the host wants 10 over its 64 u start grid
-- A straight bends by this much (rad) per step. No two segments are then
-- exactly collinear, where rounding noise can make a segment-crossing test
-- (the host's included) read two far-apart parts of one straight as crossing.
local BEND = 1e-8

local function clamp(v, lo, hi)
    if v < lo then return lo end
    if v > hi then return hi end
    return v
end

-- Angle into (-pi, pi].
local function wrap(a)
    a = a % (2 * pi)
    if a > pi then a = a - 2 * pi end
    return a
end

local function point_seg_d2(px, py, ax, ay, bx, by)
    local vx, vy = bx - ax, by - ay
    local l2 = vx * vx + vy * vy
    local t = 0
    if l2 > 0 then
        t = clamp(((px - ax) * vx + (py - ay) * vy) / l2, 0, 1)
    end
    local dx, dy = ax + t * vx - px, ay + t * vy - py
    return dx * dx + dy * dy
end

-- Squared distance between segments ab and cd; 0 when they cross.
local function seg_seg_d2(ax, ay, bx, by, cx, cy, dx, dy)
    local d1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    local d2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
    local d3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
    local d4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
    -- Only segments whose boxes overlap can cross: rounding noise in the
    -- signs above must not make far-apart collinear segments "cross".
    if d1 * d2 < 0 and d3 * d4 < 0 and max(ax, bx) >= min(cx, dx) and max(cx, dx) >= min(ax, bx)
        and max(ay, by) >= min(cy, dy) and max(cy, dy) >= min(ay, by) then
        return 0
    end
    return min(point_seg_d2(ax, ay, cx, cy, dx, dy), point_seg_d2(bx, by, cx, cy, dx, dy),
               point_seg_d2(cx, cy, ax, ay, bx, by), point_seg_d2(dx, dy, ax, ay, bx, by))
end

-- The route's point spacing: about 3 u, within the host's limits. Pieces
-- are cut into steps of half to 1.1 times this.
local function step_for(limits)
    return min(max(3, 2 * limits.min_spacing), limits.max_spacing / 1.2)
end

-- A route under construction: centre-line points (x, y, route distance d,
-- width w), the heading of the next step and a spatial hash of the segments
-- so far. Every step is checked against the host's rules as it is taken,
-- so a finished route needs no second pass. width_at(d) gives the road
-- width at route distance d; budget caps the steps taken, retries included.
local function route_new(limits, width_at, heading, budget)
    local w0 = width_at(0)
    return {
        x = { 0 }, y = { 0 }, d = { 0 }, w = { w0 },
        n = 1, h = heading,
        cells = {}, seg_key = {},
        width_at = width_at,
        wmax = w0,
        gap = 2 * limits.verge + 2,          -- both verges plus 2 u between walls
        max_turn = limits.max_turn * 0.95,
        min_step = limits.min_spacing * 1.05,
        step = step_for(limits),
        budget = budget,
    }
end

-- True when the new segment a-b (widths wa, wb, starting d0 u along the
-- route) keeps clear of every earlier segment far enough back along the
-- route that the host checks the pair. Clearance is judged against the
-- wider end of each segment and the exemption against the narrower one, so
-- the test is stricter than the host's however it reads a segment's width.
local function route_clear(rt, ax, ay, bx, by, wa, wb, d0)
    local xs, ys, ds, ws = rt.x, rt.y, rt.d, rt.w
    local gap, cells = rt.gap, rt.cells
    local jlo, jhi = min(wa, wb), max(wa, wb)
    local near = rt.step * 1.1     -- half of each segment's length, summed
    local reach = jhi / 2 + rt.wmax / 2 + gap + SLACK + near
    local mx, my = (ax + bx) / 2, (ay + by) / 2
    local half_pi = pi / 2
    for cx = floor((mx - reach) / CELL), floor((mx + reach) / CELL) do
        for cy = floor((my - reach) / CELL), floor((my + reach) / CELL) do
            local list = cells[cx * KEY + cy]
            if list then
                for k = 1, #list do
                    local i = list[k]
                    local wi0, wi1 = ws[i], ws[i + 1]
                    if d0 - ds[i + 1] > half_pi * ((min(wi0, wi1) + jlo) / 2 + gap) - 1 then
                        local c = (max(wi0, wi1) + jhi) / 2 + gap + SLACK
                        local x0, y0, x1, y1 = xs[i], ys[i], xs[i + 1], ys[i + 1]
                        local ex, ey = (x0 + x1) / 2 - mx, (y0 + y1) / 2 - my
                        local r = c + near
                        if ex * ex + ey * ey < r * r
                            and seg_seg_d2(x0, y0, x1, y1, ax, ay, bx, by) < c * c then
                            return false
                        end
                    end
                end
            end
        end
    end
    return true
end

-- Turns by dth (rad, left positive) and steps len u. Returns false, adding
-- nothing, if that breaks a rule: too sharp a turn, a radius too tight for
-- the road's width, or a pass too close to an earlier part of the route.
local function route_step(rt, len, dth)
    local n = rt.n
    local xs, ys, ds, ws = rt.x, rt.y, rt.d, rt.w
    rt.budget = rt.budget - 1
    if rt.budget < 0 or len < rt.min_step then return false end
    if dth ~= 0 and n > 1 then
        local a = abs(dth)
        if a > rt.max_turn then return false end
        if (ds[n] - ds[n - 1] + len) / 2 / a < ws[n] / 2 + 1 + TURN_SLACK then return false end
    end
    local h = rt.h + dth
    local ax, ay, d0 = xs[n], ys[n], ds[n]
    local bx, by = ax + len * cos(h), ay + len * sin(h)
    local wb = rt.width_at(d0 + len)
    if not route_clear(rt, ax, ay, bx, by, ws[n], wb, d0) then return false end
    rt.h = h
    xs[n + 1], ys[n + 1], ds[n + 1], ws[n + 1] = bx, by, d0 + len, wb
    rt.n = n + 1
    if wb > rt.wmax then rt.wmax = wb end
    -- Segment n goes in the cell of its midpoint.
    local key = floor((ax + bx) / 2 / CELL) * KEY + floor((ay + by) / 2 / CELL)
    local list = rt.cells[key]
    if not list then
        list = {}
        rt.cells[key] = list
    end
    list[#list + 1] = n
    rt.seg_key[n] = key
    return true
end

local function route_mark(rt)
    return { n = rt.n, h = rt.h }
end

-- Takes the route back to a mark. Segments join their cell lists in route
-- order, so the ones to drop are always at the ends of those lists.
local function route_rollback(rt, m)
    local cells, keys = rt.cells, rt.seg_key
    for i = rt.n - 1, m.n, -1 do
        local list = cells[keys[i]]
        list[#list] = nil
        keys[i] = nil
    end
    for i = rt.n, m.n + 1, -1 do
        rt.x[i], rt.y[i], rt.d[i], rt.w[i] = nil, nil, nil, nil
    end
    rt.n, rt.h = m.n, m.h
end

local function route_length(rt)
    return rt.d[rt.n]
end

-- A straight of len u (bent by BEND per step). Anything shorter than half
-- a step is left out.
local function route_straight(rt, len)
    if len < rt.step * 0.5 then return true end
    local n = ceil(len / (rt.step * 1.1))
    local s = len / n
    for _ = 1, n do
        if not route_step(rt, s, BEND) then return false end
    end
    return true
end

-- An arc of the given radius (u) through angle (rad, left positive). Each
-- step turns by the same amount, so the host sees exactly this radius.
local function route_arc(rt, radius, angle)
    local len = radius * abs(angle)
    if len < rt.step * 0.5 then return true end
    local n = max(ceil(len / (rt.step * 1.1)), ceil(abs(angle) / rt.max_turn))
    local s, dth = len / n, angle / n
    for _ = 1, n do
        if not route_step(rt, s, dth) then return false end
    end
    return true
end

-- Lays pieces in order: { "s", length } or { "a", radius, angle }.
local function route_run(rt, pieces)
    for _, p in ipairs(pieces) do
        local ok
        if p[1] == "s" then
            ok = route_straight(rt, p[2])
        else
            ok = route_arc(rt, p[2], p[3])
        end
        if not ok then return false end
    end
    return true
end

-- Route length of pieces.
local function pieces_length(pieces)
    local len = 0
    for _, p in ipairs(pieces) do
        len = len + (p[1] == "s" and p[2] or p[2] * abs(p[3]))
    end
    return len
end

-- Shrinks pieces in proportion (straights and arc angles alike) so they run
-- at most len u. Every heading along the shrunk pieces lies between the
-- old start and end headings, so heading limits still hold.
local function pieces_fit(pieces, len)
    local total = pieces_length(pieces)
    if total <= len then return end
    local f = max(0, len) / total
    for _, p in ipairs(pieces) do
        if p[1] == "s" then
            p[2] = p[2] * f
        else
            p[3] = p[3] * f
        end
    end
end

-- Grows the route section by section. propose(rt, state, attempt) returns
-- the pieces of the next section, the planner's state after it and whether
-- it is the last section; or nil when it has nothing (more) to offer. A
-- section that does not fit is proposed again (attempt 2, 3, ...); when no
-- attempt fits, the section before is taken back and redrawn: a small
-- depth-first search kept short by max_fails and the route's step budget.
-- Returns the planner's final state, or nil.
local function route_build(rt, state, propose, max_fails)
    local stack = {}
    local fails = 0
    while true do
        local m = route_mark(rt)
        local placed, nstate, last = false, nil, false
        for attempt = 1, 8 do
            local pieces
            pieces, nstate, last = propose(rt, state, attempt)
            if not pieces then break end
            if route_run(rt, pieces) then
                placed = true
                break
            end
            route_rollback(rt, m)
            if rt.budget < 0 then return nil end
        end
        if placed then
            if last then return nstate end
            stack[#stack + 1] = { m, state }
            state = nstate
        else
            fails = fails + 1
            if fails > max_fails or #stack == 0 then return nil end
            local top = table.remove(stack)
            route_rollback(rt, top[1])
            state = top[2]
        end
    end
end

-- Smooth value noise in [-1, 1]: a random knot every `spacing` u, eased
-- between knots with a half cosine.
local function noise_new(rng, spacing, length)
    local knots = {}
    for k = 0, ceil(length / spacing) + 1 do knots[k] = rng:range(-1, 1) end
    return function(d)
        local u = d / spacing
        local k = floor(u)
        local t = (1 - cos((u - k) * pi)) / 2
        local a, b = knots[k] or 0, knots[k + 1] or 0
        return a + (b - a) * t
    end
end

-- Road width at route distance d: mean +- amp of smooth noise, kept within
-- lo..hi and the host's limits, at least GRID_WIDTH over the start and
-- easing back to the stage's own width over the next GRID_BLEND u.
local function width_new(rng, limits, mean, amp, lo, hi, length)
    hi = min(hi, limits.max_width)
    lo = min(max(lo, limits.min_width), hi)
    local grid = clamp(GRID_WIDTH, limits.min_width, limits.max_width)
    local noise = noise_new(rng, 140, length + 400)
    return function(d)
        local w = clamp(mean + amp * noise(d), lo, hi)
        if d < GRID_LEN + GRID_BLEND then
            local g = grid
            if d > GRID_LEN then g = grid + (w - grid) * (d - GRID_LEN) / GRID_BLEND end
            if g > w then w = g end
        end
        return w
    end
end

-- Up to count stretches { from, to } of lmin..lmax u inside a..b, in route
-- order, each inside its own equal share of a..b and at least gap u apart.
-- A surface changes at a point, up to a step from where it is asked to, so
-- the lengths asked for are narrowed by a step at each end.
local function stretches_new(rng, limits, count, lmin, lmax, a, b, gap)
    local out = {}
    local slop = step_for(limits) * 1.1
    lmin = lmin + slop
    lmax = max(lmin, lmax - slop)
    count = min(count, floor((b - a) / (lmin + gap)))
    if count < 1 then return out end
    local share = (b - a) / count
    for k = 0, count - 1 do
        local room = share - gap
        local len = rng:range(lmin, min(lmax, room))
        local from = a + k * share + rng:range(0, room - len)
        out[#out + 1] = { from, from + len }
    end
    return out
end

-- The surface at route distance d: inside for d in one of the stretches,
-- else outside.
local function in_stretch(stretches, d)
    for _, s in ipairs(stretches) do
        if d >= s[1] and d < s[2] then return true end
    end
    return false
end

-- The turn side (+1 left, -1 right) and angle for a turn of about a rad
-- from relative heading hr, leaning back towards the stage's general
-- direction (lean 0..0.5), never ending more than lim rad off it.
local function pick_turn(rng, hr, a, lim, lean)
    local side = rng:chance(0.5 - lean * hr / lim) and 1 or -1
    if side * hr + a > lim then side = -side end
    return side, min(a, lim - side * hr)
end

-- The stage table for the host: each point's surface from surface_at(d),
-- and checkpoints spread evenly along the route, at least the host's gap
-- from the start, the finish and each other.
local function route_stage(rt, limits, surface_at)
    local pts = {}
    local xs, ys, ds, ws = rt.x, rt.y, rt.d, rt.w
    for i = 1, rt.n do
        pts[i] = { x = xs[i], y = ys[i], width = ws[i], surface = surface_at(ds[i]) }
    end
    local total = ds[rt.n]
    local gap = (limits.checkpoint_gap or 50) + rt.step * 1.2
    local count = clamp(floor(total / 280 + 0.5), 4, 10)
    count = max(1, min(count, floor(total / gap) - 1))
    local cps = {}
    local i = 2
    for k = 1, count do
        local want = total * k / (count + 1)
        while ds[i] < want do i = i + 1 end
        cps[k] = i
    end
    return { points = pts, checkpoints = cps }
end

-- ==== end of route kit =====================================================

-- Lays out one coast stage: the route, or nil if the search gives up.
-- gentle keeps every heading within 40 degrees of the start's: each step
-- then gains ground along the start direction, so the road cannot come
-- back near itself (the last-resort layout, which always fits).
local function coast_route(rng, p, limits, width_at, target, dir0, gentle)
    local lim = rad(gentle and 40 or 85)
    local finish = rng:range(60, 100)
    -- The tightest radius the widest road allows, with room for the host's
    -- radius rule where a bend meets a straight of shorter steps.
    local rmin = (min(16, limits.max_width) / 2 + 1 + TURN_SLACK) / 0.7

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
        side, a = pick_turn(rng, hr, a, lim, lean)
        return r, side * a
    end

    local function propose(rt, st, attempt)
        local done = route_length(rt)
        local left = target - finish - done
        if left < 20 or st.bends <= 0 then
            return { { "s", target - done } }, st, true
        end
        local hr = wrap(rt.h - dir0)
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
            local kr = rng:range(300, 600)
            local side, ka = pick_turn(rng, hr, rad(rng:range(3, 10)), lim, lean)
            local g1 = (gap - kr * ka) * rng:range(0.3, 0.7)
            if g1 > 0 then
                pieces[#pieces + 1] = { "s", g1 }
                pieces[#pieces + 1] = { "a", kr, side * ka }
                gap = gap - g1 - kr * ka
                hr = hr + side * ka
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
        pieces_fit(pieces, left)
        return pieces, { bends = st.bends - (two and 2 or 1) }, false
    end

    local budget = floor(target / 3) * (gentle and 40 or 25)
    local rt = route_new(limits, width_at, dir0, budget)
    -- The start grid: nothing earlier to run into, so it always fits.
    assert(route_straight(rt, GRID_LEN + rng:range(0, 30)))
    if not route_build(rt, { bends = p.bends }, propose, 40) then return nil end
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
    local target = clamp(p.length, limits.min_length + 20, limits.max_length - 20)
    local dir0 = rng:range(-pi, pi)
    local width_at = width_new(rng, limits, p.width, 1.0, 12, 16, target)
    local ice = stretches_new(rng, limits, p.ice_patches, 30, p.ice_length,
                              GRID_LEN + 100, target - 100, 80)
    local function surface_at(d)
        return in_stretch(ice, d) and "ice" or "asphalt"
    end
    -- A second try draws fresh numbers, so it is a different layout.
    local rt = coast_route(rng, p, limits, width_at, target, dir0, false)
        or coast_route(rng, p, limits, width_at, target, dir0, false)
        or coast_route(rng, p, limits, width_at, target, dir0, true)
    assert(rt, "coast: no layout fits (limits too tight?)")
    return route_stage(rt, limits, surface_at)
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

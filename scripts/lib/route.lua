--[[
route.lua - the route kit shared by the shipped stage generators (forest,
coast, mountain): build a route from pieces (straights and arcs), checking
every step against the host's rules as it is laid, with a small
depth-first search over sections, plus helpers for widths, surface
stretches and checkpoints.

    local route = import("route")

import() runs this file once per Lua state, in its own sandbox, and hands
out the table at the end read-only. Everything here is a function or a
constant; a route under construction (route.new) is a plain table of the
caller's. See docs/MODDING.md ("The route kit") for an overview.
A change here that moves any point changes the stages of every generator
importing this file: bump their versions.

Route objects: route.new(limits, width_at, heading, budget) -> rt, with
rt.x, rt.y, rt.d, rt.w (point arrays: position, route distance, width),
rt.n (points), rt.h (heading of the next step), rt.step (the step length).
]]

local abs, min, max = math.abs, math.min, math.max
local floor, ceil = math.floor, math.ceil
local sin, cos, pi = math.sin, math.cos, math.pi

local CELL = 32          -- u, side of a spatial-hash cell
local KEY = 1 << 24      -- cell key = cx * KEY + cy (|cy| stays far below)
local SLACK = 0.5        -- u of clearance kept beyond what the host demands
local TURN_SLACK = 0.25  -- u of turn radius kept beyond the host's minimum
local GRID_LEN = 100     -- u of straight, wide road at the start
local GRID_BLEND = 80    -- u over which the start's width eases into the stage's
local GRID_WIDTH = 10.5  -- u; the host wants 10 over its 64 u start grid

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

-- A straight of len u. Anything shorter than half a step is left out.
local function route_straight(rt, len)
    if len < rt.step * 0.5 then return true end
    local n = ceil(len / (rt.step * 1.1))
    local s = len / n
    for _ = 1, n do
        if not route_step(rt, s, 0) then return false end
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

-- A kink before a turn on a straight of gap u: a straight, then a gentle
-- arc of kr_lo..kr_hi u radius and deg_lo..deg_hi degrees (its side picked
-- as pick_turn does), appended to pieces. Returns the straight left after
-- the kink and the new relative heading, or nil (pieces untouched) when the
-- gap is too short for the arc. The caller re-draws its turn on the new
-- heading.
local function kink(rng, pieces, gap, hr, lim, lean, kr_lo, kr_hi, deg_lo, deg_hi)
    local kr = rng:range(kr_lo, kr_hi)
    local side, ka = pick_turn(rng, hr, math.rad(rng:range(deg_lo, deg_hi)), lim, lean)
    local g1 = (gap - kr * ka) * rng:range(0.3, 0.7)
    if g1 <= 0 then return nil end
    pieces[#pieces + 1] = { "s", g1 }
    pieces[#pieces + 1] = { "a", kr, side * ka }
    return gap - g1 - kr * ka, hr + side * ka
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

return {
    -- constants (u)
    CELL = CELL, SLACK = SLACK, TURN_SLACK = TURN_SLACK,
    GRID_LEN = GRID_LEN, GRID_BLEND = GRID_BLEND, GRID_WIDTH = GRID_WIDTH,
    -- geometry
    clamp = clamp, wrap = wrap, point_seg_d2 = point_seg_d2, seg_seg_d2 = seg_seg_d2,
    step_for = step_for,
    -- routes
    new = route_new, step = route_step, clear = route_clear,
    mark = route_mark, rollback = route_rollback, length = route_length,
    straight = route_straight, arc = route_arc, run = route_run, build = route_build,
    stage = route_stage,
    -- pieces
    pieces_length = pieces_length, pieces_fit = pieces_fit,
    -- layout helpers
    noise = noise_new, width = width_new, stretches = stretches_new, in_stretch = in_stretch,
    pick_turn = pick_turn, kink = kink,
}

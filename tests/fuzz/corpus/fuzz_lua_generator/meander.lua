-- meander.lua - a gentle meander: straights and bends of 20-40 degrees that
-- never take the road more than 40 degrees off its start direction. Every
-- step then gains ground in that direction, so the road never comes back
-- near itself and needs no overlap check.

local cos, sin, pi, rad = math.cos, math.sin, math.pi, math.rad
local abs, min, max, floor = math.abs, math.min, math.max, math.floor

local STEP = 3        -- u between points
local GRID = 100      -- u of straight road for the start grid

local function generate(seed, params)
    local rng = rally.rng(seed)
    local limits = rally.limits
    local target = min(max(params.length, limits.min_length + 10), limits.max_length - 10)
    local section = params.section
    local points = {}
    local x, y, dist = 0, 0, 0
    local start = rng:range(-pi, pi)
    local heading = start

    -- The point here; it gives its surface to the segment that follows.
    local function add_point()
        local surface = floor(dist / section) % 2 == 0 and "gravel" or "asphalt"
        points[#points + 1] = { x = x, y = y, width = params.width, surface = surface }
    end
    -- Turns by dth, then moves len u.
    local function step(len, dth)
        heading = heading + dth
        x, y = x + len * cos(heading), y + len * sin(heading)
        dist = dist + len
        add_point()
    end
    local function straight(len)
        local n = max(1, floor(len / STEP + 0.5))
        for _ = 1, n do step(len / n, 0) end
    end
    local function arc(radius, angle)
        local len = radius * abs(angle)
        local n = max(1, floor(len / STEP + 0.5))
        for _ = 1, n do step(len / n, angle / n) end
    end

    add_point()
    straight(GRID)
    -- Each round adds at most 80 + 120 * rad(40) = 164 u, so the finish
    -- straight is at least 136 u long.
    while dist < target - 300 do
        straight(rng:range(20, 80))
        local angle = rad(rng:range(20, 40)) * (rng:chance(0.5) and 1 or -1)
        if abs(heading - start + angle) > rad(40) then angle = -angle end
        arc(rng:range(40, 120), angle)
    end
    straight(target - dist)

    -- Five checkpoints, evenly spread.
    local checkpoints = {}
    local i, covered = 1, 0
    for k = 1, 5 do
        while covered < target * k / 6 do
            i = i + 1
            covered = covered + math.sqrt((points[i].x - points[i - 1].x) ^ 2
                                          + (points[i].y - points[i - 1].y) ^ 2)
        end
        checkpoints[k] = i
    end
    return { points = points, checkpoints = checkpoints }
end

return {
    name = "fuzz",
    version = "1",
    description = "Gentle meander on alternating gravel and asphalt.",
    params = {
        length = { default = 1500, min = 1000, max = 3000, description = "route length (u)" },
        width = { default = 12, min = 10, max = 16, description = "road width (u)" },
        section = { default = 400, min = 100, max = 1000,
                    description = "length (u) of each gravel or asphalt section" },
    },
    generate = generate,
}

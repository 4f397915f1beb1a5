-- dunes.lua - a newcomer's generator written from docs/MODDING.md only:
-- gravel road with sand stretches, bends planned with the route kit.
local route = import("route")

local function generate(seed, params)
    local rng, limits = rally.rng(seed), rally.limits
    local target = math.min(math.max(params.length, limits.min_length + 20), limits.max_length - 20)
    local dir0 = rng:range(-math.pi, math.pi)
    local width_at = route.width(rng, limits, params.width, 1, 9, 13, target)
    local rt = route.new(limits, width_at, dir0, 40000)
    assert(route.straight(rt, route.GRID_LEN))
    local bends = math.floor(params.bends + 0.5)
    local function propose(r, left_bends, attempt)
        local left = target - 60 - route.length(r)
        if left < 20 or left_bends == 0 then
            return { { "s", target - route.length(r) } }, left_bends, true
        end
        local hr = route.wrap(r.h - dir0)
        local side, a = route.pick_turn(rng, hr, math.rad(rng:range(30, 100)), math.rad(90), 0.4)
        local pieces = { { "s", rng:range(20, 90) + 20 * attempt },
                         { "a", rng:range(25, 70), side * a } }
        route.pieces_fit(pieces, left)
        return pieces, left_bends - 1, false
    end
    assert(route.build(rt, bends, propose, 40), "no layout fits")
    local sand = route.stretches(rng, limits, math.floor(params.sand + 0.5), 40, 150,
                                 route.GRID_LEN + 50, target - 50, 60)
    return route.stage(rt, limits, function(d)
        if route.in_stretch(sand, d) then return "sand" end
        return "gravel"
    end)
end

return {
    name = "dunes",
    version = "1",
    description = "Gravel desert road with sand stretches.",
    params = {
        length = { default = 1800, min = 1200, max = 2600, description = "route length (u)" },
        bends = { default = 12, min = 4, max = 20, description = "number of bends" },
        width = { default = 11, min = 9, max = 13, description = "mean road width (u)" },
        sand = { default = 4, min = 0, max = 8, description = "number of sand stretches" },
    },
    generate = generate,
}

-- Car types, upgrade levels and what each level does to the physics stats.
-- The host calls stats(car_type, levels) and checks the result's ranges;
-- the garage (server) reads car_types and upgrades for prices and names.

local car_types = {
    hatch = {
        name = "Rally Hatch",
        description = "Light and forgiving front-runner; the starter car.",
        price = 0,
        stats = {
            top_speed = 44, acceleration = 15, grip = 1.0, braking = 30,
            nitro_capacity = 2, nitro_duration = 100, handling = 2.3, weight = 1050,
        },
    },
    coupe = {
        name = "Turbo Coupe",
        description = "Fast on asphalt, a handful on loose surfaces.",
        price = 1500,
        stats = {
            top_speed = 52, acceleration = 17, grip = 0.9, braking = 32,
            nitro_capacity = 2, nitro_duration = 120, handling = 2.1, weight = 1200,
        },
    },
    raider = {
        name = "Gravel Raider",
        description = "Four-wheel drive grip for gravel and ice.",
        price = 2500,
        stats = {
            top_speed = 47, acceleration = 16, grip = 1.2, braking = 31,
            nitro_capacity = 1, nitro_duration = 120, handling = 2.4, weight = 1350,
        },
    },
}

-- Each stat has levels 0..#costs; level k adds the sum of the first k
-- deltas. costs[k] is the price in points of going from level k-1 to k.
-- name and description are what the garage shows.
local upgrades = {
    top_speed = { name = "Top speed", description = "Engine and gearing: more speed on the straights.",
        deltas = { 2, 2, 2, 1.5, 1.5 }, costs = { 200, 350, 550, 800, 1200 } },
    acceleration = { name = "Acceleration", description = "Pulls harder out of corners.",
        deltas = { 1, 1, 1, 0.8 }, costs = { 200, 350, 550, 800 } },
    grip = { name = "Grip", description = "Tyres that hold the line on every surface.",
        deltas = { 0.05, 0.05, 0.05, 0.05 }, costs = { 250, 400, 600, 900 } },
    braking = { name = "Brakes", description = "Stops shorter, so you can brake later.",
        deltas = { 2, 2, 2 }, costs = { 150, 300, 500 } },
    handling = { name = "Handling", description = "Turns in faster at full steer.",
        deltas = { 0.1, 0.1, 0.1 }, costs = { 200, 350, 550 } },
    nitro_capacity = { name = "Nitro tanks", description = "One more nitro charge per race.",
        deltas = { 1, 1 }, costs = { 400, 900 } },
    nitro_duration = { name = "Nitro burn", description = "Each charge burns longer.",
        deltas = { 20, 20, 20 }, costs = { 250, 400, 650 } },
    -- Lighter is better: weight levels take mass off.
    weight = { name = "Lightweight", description = "Less mass: quicker, but lighter in contact.",
        deltas = { -40, -40, -40 }, costs = { 300, 500, 800 } },
}

local function stats(car_type, levels)
    local car = car_types[car_type]
    if not car then error("unknown car type '" .. tostring(car_type) .. "'", 2) end
    local out = {}
    for k, v in pairs(car.stats) do out[k] = v end
    for stat, level in pairs(levels or {}) do
        local u = upgrades[stat]
        if not u then error("unknown upgrade '" .. tostring(stat) .. "'", 2) end
        if math.type(level) ~= "integer" or level < 0 or level > #u.deltas then
            error(("upgrade %s level %s is outside 0..%d"):format(stat, tostring(level), #u.deltas), 2)
        end
        for i = 1, level do out[stat] = out[stat] + u.deltas[i] end
    end
    return out
end

-- Cost of taking `stat` from level `from` to `from + 1`, or nil at the top.
local function upgrade_cost(stat, from)
    local u = upgrades[stat]
    return u and u.costs[from + 1]
end

return {
    car_types = car_types,
    upgrades = upgrades,
    stats = stats,
    upgrade_cost = upgrade_cost,
}

-- Surfaces: what a stage's road can be made of, and the verge beside it.
-- Generators name road surfaces (rally.surfaces lists them); cars feel
-- them; bots see their names; the stage picture draws their colours.
--   grip       multiplies the car's cornering grip (0.01..2)
--   drag       rolling drag, share of speed lost per second (0..5)
--   top_speed  factor on the car's top speed (0.05..1.5)
--   colour     "#rrggbb" in the SVG preview
-- "offroad" is the verge between the road edge and the wall: required,
-- never generated. At most 16 entries. Changing a value makes new stages
-- (their hash changes, and replays made with the old values no longer
-- verify). See docs/MODDING.md, "Surfaces".
return {
    surface { name = "asphalt", grip = 1.00, drag = 0.04, top_speed = 1.00, colour = "#55585e" },
    surface { name = "gravel", grip = 0.68, drag = 0.10, top_speed = 0.93, colour = "#b08a57" },
    surface { name = "ice", grip = 0.22, drag = 0.02, top_speed = 0.97, colour = "#cfe9f7" },
    surface { name = "offroad", grip = 0.50, drag = 1.10, top_speed = 0.45, colour = "#3f6b35" },
    surface { name = "sand", grip = 0.80, drag = 0.04, top_speed = 0.60, colour = "#e0c070" },
}

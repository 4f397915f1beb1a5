return {
    name = "fuzz",
    countdown_s = 0,
    time_limit_s = 30,
    on_checkpoint = function(ev) return -1 end,
    on_finish = function(ev) error("finish: " .. tostring(ev.car)) end,
    points = function(results) return { "x", 2.5 } end,
}

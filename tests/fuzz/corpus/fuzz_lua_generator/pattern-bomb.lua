-- A backtracking pattern: the instruction budget does not count work inside
-- string.find, so this runs for minutes (libFuzzer: timeout).
return {
    name = "fuzz",
    version = "1",
    description = "pattern bomb",
    params = {},
    generate = function(seed, params)
        string.find(string.rep("a", 30000), ".-.-.-.-b")
    end,
}

-- The sandbox every script runs in, exercised through the real host
-- (crhost.so is the engine's own Lua host built as a module).
local crhost = require("crhost")

describe("the script sandbox", function()
    it("runs ordinary code and returns its value", function()
        local ok, v = crhost.sandbox("local t = {} for i = 1, 10 do t[i] = i * i end return t[10]")
        assert.is_true(ok)
        assert.are.equal(100, v)
    end)

    for _, name in ipairs({ "io", "os", "require", "load", "dofile", "loadfile", "debug",
                            "package", "collectgarbage", "rawset", "xpcall", "coroutine", "_G" }) do
        it("has no " .. name, function()
            local ok, err = crhost.sandbox("return " .. name)
            assert.is_false(ok)
            assert.matches("unknown global '" .. name .. "'", err, 1, true)
            assert.matches("sandbox:1:", err, 1, true)
        end)
    end

    it("drops string.dump and math.random", function()
        local ok = crhost.sandbox("assert(string.dump == nil and ('').dump == nil)\n"
            .. "assert(math.random == nil and math.randomseed == nil)\nreturn true")
        assert.is_true(ok)
    end)

    it("freezes the builtins", function()
        local ok, err = crhost.sandbox("string.format = nil")
        assert.is_false(ok)
        assert.matches("read%-only", err)
        ok, err = crhost.sandbox("setmetatable(table, {})")
        assert.is_false(ok)
        assert.matches("protected metatable", err)
    end)

    it("refuses a pattern bomb before it runs, naming the line", function()
        local ok, err = crhost.sandbox("local x = 1\n"
            .. "return string.find(string.rep('a', 30000), '.-.-.-.-b')", nil, 1000000)
        assert.is_false(ok)
        assert.matches("^sandbox:2: string.find on 30000 bytes", err)
        assert.matches("over the instruction budget of 1000000 per call", err, 1, true)
    end)

    it("still runs patterns that fit", function()
        local ok, v = crhost.sandbox("return (('key = value'):match('^(%w+) = (%w+)$'))")
        assert.is_true(ok)
        assert.are.equal("key", v)
        ok, v = crhost.sandbox("return (('a,b,,c'):gsub(',', ';'))")
        assert.is_true(ok)
        assert.are.equal("a;b;;c", v)
    end)

    for _, thrown in ipairs({ "{}", "nil", "setmetatable({}, {__tostring = error})" }) do
        it("names file and line for error(" .. thrown .. ")", function()
            local ok, err = crhost.sandbox("local x = 1\nerror(" .. thrown .. ")")
            assert.is_false(ok)
            assert.matches("^sandbox:2: error object is a %a+ value", err)
        end)
    end

    it("stops an endless loop even under pcall", function()
        local ok, err = crhost.sandbox(
            "while true do pcall(function() while true do end end) end", nil, 1000000)
        assert.is_false(ok)
        assert.matches("instruction budget", err)
    end)

    it("refuses finalizers, which would run with the budget off", function()
        local ok, err = crhost.sandbox("setmetatable({}, {__gc = function() end})")
        assert.is_false(ok)
        assert.matches("__gc", err)
    end)

    it("caps memory", function()
        local ok, err = crhost.sandbox("local t = {} for i = 1, 1e8 do t[i] = i end", 2 * 1024 * 1024)
        assert.is_false(ok)
        assert.matches("memory cap", err)
    end)

    it("refuses bytecode", function()
        local ok, err = crhost.sandbox("\27Lua\84\0garbage")
        assert.is_false(ok)
        assert.matches("binary", err)
    end)

    it("reports errors with a traceback", function()
        local ok, err = crhost.sandbox("local function f() error('nope') end\nf()")
        assert.is_false(ok)
        assert.matches("sandbox:1: nope", err, 1, true)
        assert.matches("stack traceback", err, 1, true)
    end)
end)

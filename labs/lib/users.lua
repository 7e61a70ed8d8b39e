-- users.lua: a wrk script that spreads recommendation requests over the
-- ML-100K shape's users (1..943), so the load measures more than one cached answer
local n = 0
request = function()
	n = n + 1
	return wrk.format("GET", "/recommendations/" .. (n % 943 + 1) .. "?k=10")
end

-- Mixed workload, one connection per thread (-t N -c N): 90% me/verify,
-- 5% refresh, 4% login, 1% logout. Each thread keeps its own session
-- (line i of BENCH_MIXED_FILE: "access refresh username") and logs in
-- again, as its own user, after a logout.
dofile("bench/per_thread.lua")
function init(args)
	access, refresh, user = thread_line("BENCH_MIXED_FILE"):match("(%S+) (%S+) (%S+)")
	password = os.getenv("BENCH_PASSWORD")
	math.randomseed(id * 7919)
	flip = false
end
local json = { ["Content-Type"] = "application/json" }
function request()
	local r = math.random(100)
	if access == nil or r <= 4 then
		return wrk.format("POST", "/api/v1/auth/login", json,
		    '{"username":"' .. user .. '","password":"' .. password .. '"}')
	elseif r == 5 then
		local h = { ["Authorization"] = "Bearer " .. access }
		access = nil
		return wrk.format("POST", "/api/v1/auth/logout", h)
	elseif r <= 10 then
		return wrk.format("POST", "/api/v1/auth/refresh", json,
		    '{"refresh_token":"' .. refresh .. '"}')
	end
	flip = not flip
	if flip then
		return wrk.format("GET", "/api/v1/auth/me", { ["Authorization"] = "Bearer " .. access })
	end
	return wrk.format("POST", "/api/v1/auth/verify", json, '{"token":"' .. access .. '"}')
end
function response(status, headers, body)
	local a = body:match('"access_token":"([^"]+)"')
	local t = body:match('"refresh_token":"([^"]+)"')
	if a then access = a end
	if t then refresh = t end
end

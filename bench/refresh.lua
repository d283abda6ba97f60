-- POST /auth/refresh, one chain of rotations per connection: run with as
-- many threads as connections (-t N -c N); thread i starts from line i
-- of BENCH_REFRESH_FILE (one fresh session per line) and every answer's
-- refresh_token is its next request's.
dofile("bench/per_thread.lua")
function init(args)
	token = thread_line("BENCH_REFRESH_FILE")
	errors = 0
end
function request()
	return wrk.format("POST", "/api/v1/auth/refresh",
	    { ["Content-Type"] = "application/json" },
	    '{"refresh_token":"' .. token .. '"}')
end
function response(status, headers, body)
	local t = body:match('"refresh_token":"([^"]+)"')
	if t then token = t else errors = errors + 1 end
end

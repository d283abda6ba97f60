-- A wrong-password login flood: every request names a new identifier,
-- so (until a per-address limit refuses it) each one costs a hash. With
-- BENCH_ADDRS=N the requests come from N addresses, by X-Forwarded-For,
-- which the bench nginx trusts from loopback (STACK_REALIP=1) the way a
-- deployment behind a proxy does; without it, from 127.0.0.1 alone.
local addrs = tonumber(os.getenv("BENCH_ADDRS") or "0")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
local n = 0
request = function()
	n = n + 1
	local h = { ["Content-Type"] = "application/json" }
	if addrs > 0 then
		local a = n % addrs
		h["X-Forwarded-For"] = "10.77." .. math.floor(a / 256) .. "." .. (a % 256 + 1)
	end
	return wrk.format("POST", "/api/v1/auth/login", h,
	    '{"username":"flood' .. math.random(1, 1000000000) .. '","password":"wrong password!"}')
end

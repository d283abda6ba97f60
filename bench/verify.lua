-- POST /auth/verify with the token in BENCH_TOKEN's file (first line).
local f = assert(io.open(os.getenv("BENCH_TOKEN_FILE")))
local token = f:read("*l")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"token":"' .. token .. '"}'

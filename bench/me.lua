-- GET /auth/me with a Bearer token from BENCH_TOKEN_FILE.
local f = assert(io.open(os.getenv("BENCH_TOKEN_FILE")))
local token = f:read("*l")
f:close()
wrk.headers["Authorization"] = "Bearer " .. token

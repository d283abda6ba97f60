-- GET /auth/me with a personal access token from BENCH_PAT_FILE.
local f = assert(io.open(os.getenv("BENCH_PAT_FILE")))
local token = f:read("*l")
f:close()
wrk.headers["Authorization"] = "Bearer " .. token

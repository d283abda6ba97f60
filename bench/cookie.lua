-- A signed-in browser: the browser session cookie from BENCH_COOKIE_FILE
-- (GET /auth/check as nginx's auth_request sends it, or a protected
-- location: auth_request + the demo's upstream).
local f = assert(io.open(os.getenv("BENCH_COOKIE_FILE")))
local cookie = f:read("*l")
f:close()
wrk.headers["Cookie"] = cookie

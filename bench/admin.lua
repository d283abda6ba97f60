-- GET /admin/users?q=...: an admin's search over the bench's 10,000 extra
-- users (BENCH_ADMIN_FILE: the admin's access token; BENCH_SEARCH: q).
local f = assert(io.open(os.getenv("BENCH_ADMIN_FILE")))
local token = f:read("*l")
f:close()
wrk.headers["Authorization"] = "Bearer " .. token
wrk.path = "/api/v1/admin/users?limit=50&q=" .. os.getenv("BENCH_SEARCH")

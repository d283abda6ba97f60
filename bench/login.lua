-- POST /auth/login as the bench user.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. os.getenv("BENCH_USER") .. '","password":"' ..
    os.getenv("BENCH_PASSWORD") .. '"}'

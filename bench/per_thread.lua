-- Shared by the per-connection scripts (dofile'd; wrk runs from the
-- repository root): numbers the threads, and reads thread i's line i
-- of a file named by an environment variable.
local counter = 0
function setup(thread)
	counter = counter + 1
	thread:set("id", counter)
end
function thread_line(env)
	local f = assert(io.open(os.getenv(env)))
	local n, mine = 0, nil
	for line in f:lines() do
		n = n + 1
		if n == id then mine = line end
	end
	f:close()
	return mine
end

-- GET /Users/{id} of a random existing user.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
function scenario_init() ids = read_lines("ids.txt") end
function request()
  return wrk.format("GET", base_path .. "/Users/" .. pick(ids))
end

-- The rejection path: GET /Users/{id} with a well-formed but wrong token (expects 401).
expected = { [401] = true }
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
wrk.headers["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJub2JvZHkiLCJqdGkiOiJ4IiwiaWF0IjoxfQ.c2lnbmF0dXJlLWRvZXMtbm90LW1hdGNo"
local ids
function scenario_init() ids = read_lines("ids.txt") end
function request()
  return wrk.format("GET", base_path .. "/Users/" .. pick(ids))
end

-- Okta import paging: GET /Users?startIndex=<random page start>&count=100 over the seeded users.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local pages
function scenario_init() pages = math.max(1, math.floor(seeded_users / 100)) end
function request()
  local start = (math.random(pages) - 1) * 100 + 1
  return wrk.format("GET", base_path .. "/Users?startIndex=" .. start .. "&count=100")
end

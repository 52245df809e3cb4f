-- Okta's pre-create lookup: GET /Users?filter=userName eq "<random existing>"&startIndex=1&count=100
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local names
-- the filter names an existing resource: exactly one match
function check_body(body) return string.find(body, '"totalResults":1,', 1, true) ~= nil end
function scenario_init() names = read_lines("usernames.txt") end
function request()
  local f = 'userName eq "' .. pick(names) .. '"'
  return wrk.format("GET", base_path .. "/Users?filter=" .. urlencode(f) .. "&startIndex=1&count=100")
end

-- Entra's group lookup: GET /Groups?excludedAttributes=members&filter=displayName eq "<random existing>"
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local names
-- the filter names an existing resource: exactly one match
function check_body(body) return string.find(body, '"totalResults":1,', 1, true) ~= nil end
function scenario_init() names = read_lines("groups.txt") end
function request()
  local f = 'displayName eq "' .. pick(names) .. '"'
  return wrk.format("GET", base_path .. "/Groups?excludedAttributes=members&filter=" .. urlencode(f))
end

-- F: Okta's membership PATCH on one group ($BENCH_GROUP_ID): add $BENCH_BATCH members
-- ({"op":"add","path":"members","value":[{"value":id},...]}), and later remove them again
-- ({"op":"remove","path":"members","value":[...]}) so the group's size stays steady.
-- The members come from tail_ids.txt (the last seeded users, in no group), cut into slots of
-- $BENCH_BATCH; the script adds slot 1, 2, ... K, then removes slot 1, 2, ... K, and so on,
-- so an add and the remove of the same slot are K requests apart (K = 8 or 400; a remove
-- that overtakes its add removes nothing and succeeds, so the counts stay honest).
expected = { [200] = true, [204] = true }
dofile(os.getenv("BENCH_COMMON_LUA"))
local group = os.getenv("BENCH_GROUP_ID") or ""
local batch = tonumber(os.getenv("BENCH_BATCH") or "1") or 1
local slots = {}
local n = 0
function scenario_init()
  local spare = read_lines("tail_ids.txt")
  local k = math.floor(#spare / batch)
  for s = 1, k do
    local vals = {}
    for j = 1, batch do
      vals[#vals + 1] = '{"value":"' .. spare[(s - 1) * batch + j] .. '"}'
    end
    slots[s] = table.concat(vals, ",")
  end
end
function request()
  local k = #slots
  local slot = (n % k) + 1
  local op = (math.floor(n / k) % 2 == 0) and "add" or "remove"
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"' ..
    op .. '","path":"members","value":[' .. slots[slot] .. ']}]}'
  return wrk.format("PATCH", base_path .. "/Groups/" .. group,
    headers_with({ ["Content-Type"] = "application/scim+json" }), body)
end

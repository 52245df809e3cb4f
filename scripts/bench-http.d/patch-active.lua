-- Okta deactivate/reactivate: path-less PATCH {"op":"replace","value":{"active":false|true}},
-- alternating per thread, on random existing users.
expected = { [200] = true, [204] = true }
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
local flip = false
function scenario_init() ids = read_lines("ids.txt") end
function request()
  flip = not flip
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":' ..
    (flip and "false" or "true") .. '}}]}'
  return wrk.format("PATCH", base_path .. "/Users/" .. pick(ids), headers_with({ ["Content-Type"] = "application/scim+json" }), body)
end

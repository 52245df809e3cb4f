-- POST /Users with a new unique userName per request (create throughput under load).
expected = { [201] = true }
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local n = 0
function request()
  n = n + 1
  local u = string.format("load.%s.t%d.%d@example.com", run_id, tid or 0, n)
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' .. u ..
    '","name":{"givenName":"Load","familyName":"T' .. (tid or 0) .. "N" .. n ..
    '"},"emails":[{"primary":true,"value":"' .. u .. '","type":"work"}],"displayName":"Load ' .. n ..
    '","active":true}'
  return wrk.format("POST", base_path .. "/Users", headers_with({ ["Content-Type"] = "application/scim+json" }), body)
end

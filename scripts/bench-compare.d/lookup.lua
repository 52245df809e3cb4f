-- A: Okta's pre-create lookup of a random seeded user (userName user<i>@example.com):
-- GET /Users?filter=userName eq "user<i>@example.com"&startIndex=1&count=100
dofile(os.getenv("BENCH_COMMON_LUA"))
-- A hit: exactly one match (skipped for the bare responder, whose body is a fixed user).
if os.getenv("BENCH_CHECK_BODY") == "1" then
  function check_body(body) return string.find(body, '"totalResults":%s*1[,}]') ~= nil end
end
function request()
  local f = 'userName eq "user' .. (math.random(seeded_users) - 1) .. '@example.com"'
  return wrk.format("GET", base_path .. "/Users?filter=" .. urlencode(f) .. "&startIndex=1&count=100")
end

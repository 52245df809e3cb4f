-- E: one fixed import page, GET /Users?startIndex=$BENCH_START&count=100 (the first page,
-- or the last one of the seeded users).
dofile(os.getenv("BENCH_COMMON_LUA"))
local start = tonumber(os.getenv("BENCH_START") or "1") or 1
function request()
  return wrk.format("GET", base_path .. "/Users?startIndex=" .. start .. "&count=100")
end

-- Shared by the scenario scripts of scripts/bench-http (loaded with dofile by each wrk
-- thread). Reads its inputs from the environment the bench script exports:
--   BENCH_BASE_PATH  the tenant path, e.g. /scim/v2/<tenant-id>
--   BENCH_TOKEN      the tenant's token (sent as "Authorization: Bearer ...")
--   BENCH_DATA_DIR   directory with ids.txt, usernames.txt, groups.txt (one per line)
--   BENCH_USERS      number of seeded users (for random page starts)
--   BENCH_RUN        a run-unique prefix for created userNames
--   BENCH_SCENARIO   the scenario name printed in the result line
-- Each thread counts responses whose status is not the expected one (or whose body fails
-- the scenario's optional check_body(body)) and 5xx responses;
-- done() prints one "BENCH ..." line that the bench script turns into its table.

base_path = os.getenv("BENCH_BASE_PATH") or ""
token = os.getenv("BENCH_TOKEN") or ""
data_dir = os.getenv("BENCH_DATA_DIR") or "."
seeded_users = tonumber(os.getenv("BENCH_USERS") or "0") or 0
run_id = os.getenv("BENCH_RUN") or "run"
scenario = os.getenv("BENCH_SCENARIO") or "?"

wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/scim+json"

function read_lines(name)
  local t = {}
  local f = io.open(data_dir .. "/" .. name, "r")
  if f == nil then return t end
  for line in f:lines() do
    if line ~= "" then t[#t + 1] = line end
  end
  f:close()
  return t
end

function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

-- wrk.format replaces wrk.headers when given a table: merge the extra headers in.
function headers_with(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra) do h[k] = v end
  return h
end

function pick(t)
  return t[math.random(#t)]
end

-- main state: keep the threads to aggregate their counters in done()
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- thread state
expected = expected or { [200] = true }
unexpected = 0
server_errors = 0
codes = ""
local seen = {}

function init(args)
  math.randomseed(os.time() + (tid or 0) * 7919)
  if scenario_init then scenario_init(args) end
end

function response(status, headers, body)
  local label = nil
  if not expected[status] then
    label = tostring(status)
  elseif check_body and not check_body(body) then
    -- the status was right but the body was not (see the scenario's check_body)
    label = "badbody"
  end
  if label then
    unexpected = unexpected + 1
    if not seen[label] then
      seen[label] = true
      codes = codes .. label .. ","
    end
  end
  if status >= 500 then server_errors = server_errors + 1 end
end

function done(summary, latency, requests)
  local bad, s5xx, allcodes, listed = 0, 0, "", {}
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
    s5xx = s5xx + (t:get("server_errors") or 0)
    for c in string.gmatch(t:get("codes") or "", "%w+") do
      if not listed[c] then
        listed[c] = true
        allcodes = allcodes .. c .. ","
      end
    end
  end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  if allcodes == "" then allcodes = "-" end
  io.write(string.format(
    "BENCH scenario=%s requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f unexpected=%d s5xx=%d socket_errors=%d codes=%s\n",
    scenario, summary.requests, summary.duration / 1e6,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    bad, s5xx, sock, allcodes))
end

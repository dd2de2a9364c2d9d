-- wrk script for bench/ingest_wrk.sh: every request a /v1/batch of BATCH track calls
-- with messageIds unique to the connection and request, each for a random account
-- of ACCOUNTS (ACC-00001 …) and one of its ten users; prints exact percentiles.
local key = os.getenv("TEND_BENCH_WRITE_KEY")
local accounts = tonumber(os.getenv("TEND_BENCH_ACCOUNTS") or "10000")
local size = tonumber(os.getenv("TEND_BENCH_BATCH") or "100")
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(id * 7919)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local calls = {}
  for i = 1, size do
    local account = math.random(1, accounts)
    calls[i] = string.format(
      '{"type":"track","messageId":"w%d-%d-%d","userId":"u%d-%d","event":"Report Run",' ..
      '"properties":{"rows":%d},"context":{"groupId":"ACC-%05d"}}',
      id, counter, i, account, i % 10, i, account)
  end
  return wrk.format(nil, "/v1/batch", nil, '{"batch":[' .. table.concat(calls, ",") .. ']}')
end

function done(summary, latency, requests)
  local errors = summary.errors
  local bad = errors.connect + errors.read + errors.write + errors.timeout + errors.status
  local seconds = summary.duration / 1e6
  io.write(string.format("requests %d in %.1f s: %.0f/s, %.0f calls/s; errors %d (status %d)\n",
    summary.requests, seconds, summary.requests / seconds, summary.requests * size / seconds,
    bad, errors.status))
  io.write(string.format("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end

-- wrk script for bench/api_wrk.sh: paces each connection (so the total rate is
-- about connections ÷ PACE_MS × 1000 requests/s), picks a random account per
-- request when the path holds {id}, and prints exact percentiles and errors.
local token = os.getenv("TEND_BENCH_TOKEN")
local path = os.getenv("TEND_BENCH_PATH")
local accounts = tonumber(os.getenv("TEND_BENCH_ACCOUNTS") or "100000")
local pace = tonumber(os.getenv("TEND_BENCH_PACE_MS") or "0")

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(seed)
  wrk.headers["Authorization"] = "Bearer " .. token
end

function delay()
  return pace
end

function request()
  local p = path
  if p:find("{id}", 1, true) then
    p = p:gsub("{id}", string.format("ACC-%05d", math.random(0, accounts - 1)))
  end
  return wrk.format("GET", p)
end

function done(summary, latency, requests)
  local errors = summary.errors
  local bad = errors.connect + errors.read + errors.write + errors.timeout + errors.status
  io.write(string.format("requests %d in %.1f s: %.0f/s; errors %d (status %d, timeout %d)\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    bad, errors.status, errors.timeout))
  io.write(string.format("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000))
end

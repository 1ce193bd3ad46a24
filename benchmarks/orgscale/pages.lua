-- wrk script for pages.py: GET a random path from BENCH_PATHS (one per line) with the
-- session cookie BENCH_COOKIE, as htmx when BENCH_HTMX=1; count answers other than 200
-- (a lost session would answer 302 to the login page); print percentiles in milliseconds.

local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do
  if #line > 0 then table.insert(paths, line) end
end
local headers = { ["Cookie"] = os.getenv("BENCH_COOKIE") }
if os.getenv("BENCH_HTMX") == "1" then headers["HX-Request"] = "true" end

-- BENCH_THINK_MS > 0: each client waits a random think time (exponential, that mean) between
-- its requests, as people reading a page do; 0 (default): back to back.
local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  bad = 0
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

function delay()
  if think <= 0 then return 0 end
  return math.floor(-think * math.log(1 - math.random()))
end

function response(status, hdrs, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + thread:get("bad") end
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f p50=%.2f p95=%.2f p99=%.2f max=%.2f errors=%d wrong=%d\n",
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + summary.errors.status,
    wrong))
end

-- report.lua: wrk script whose done() hook writes the run's figures as JSON.
--
-- The harness reads numbers from this file, never from wrk's text output:
-- wrk prints rounded, unit-suffixed figures ("1.23ms", "98.2k") meant for
-- people. The JSON goes to the path in the BENCH_JSON environment variable
-- (or to stdout when it is unset). Latencies are in microseconds, as wrk
-- records them.
--
-- Optional environment:
--   BENCH_CLOSE=1  send "Connection: close" on every request, so each
--                  request pays for a TCP handshake and teardown.

if os.getenv("BENCH_CLOSE") == "1" then
   wrk.headers["Connection"] = "close"
end

-- [snippet: wrk-done-hook]
local function pct(latency, p)
   return latency:percentile(p)
end

function done(summary, latency, requests)
   local e = summary.errors
   local fields = {
      string.format('"requests": %d', summary.requests),
      string.format('"duration_us": %d', summary.duration),
      string.format('"bytes": %d', summary.bytes),
      string.format('"err_connect": %d', e.connect),
      string.format('"err_read": %d', e.read),
      string.format('"err_write": %d', e.write),
      string.format('"err_status": %d', e.status),
      string.format('"err_timeout": %d', e.timeout),
      string.format('"lat_mean_us": %.1f', latency.mean),
      string.format('"lat_max_us": %d', latency.max),
      string.format('"p50_us": %d', pct(latency, 50)),
      string.format('"p90_us": %d', pct(latency, 90)),
      string.format('"p99_us": %d', pct(latency, 99)),
      string.format('"p999_us": %d', pct(latency, 99.9)),
   }
   local json = "{" .. table.concat(fields, ", ") .. "}\n"
   local path = os.getenv("BENCH_JSON")
   if path and path ~= "" then
      local f = assert(io.open(path, "w"))
      f:write(json)
      f:close()
   else
      io.write(json)
   end
end
-- [end: wrk-done-hook]

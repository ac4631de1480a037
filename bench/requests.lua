-- wrk script for bench/run.py: cycles through pre-generated requests and reports as JSON.
--
--   wrk -t1 -c16 -d10s -s bench/requests.lua http://127.0.0.1:PORT -- REQUEST_FILE
--
-- REQUEST_FILE holds one request per line: METHOD <tab> PATH <tab> HEADERS <tab> BODY, where
-- HEADERS is "Name: value" pairs joined by the unit separator (\31) and BODY may be empty.
-- Each request is formatted once in init(); request() hands them out in file order and wraps
-- around at the end (the report's "sent" against "distinct" shows whether it did).
-- done() prints one line "BENCH_RESULT {json}": completed requests, duration, latency
-- percentiles in microseconds, socket errors and responses that were not 2xx.

local prepared = {}
local next_index = 0
distinct = 0
sent = 0
non2xx = 0

function init(args)
   local file = assert(io.open(args[1], "r"))
   for line in file:lines() do
      local method, path, headers, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      assert(method, "malformed request line")
      local fields = {}
      for pair in headers:gmatch("[^\31]+") do
         local name, value = pair:match("^([^:]+):%s*(.*)$")
         fields[name] = value
      end
      if body == "" then
         body = nil
      end
      prepared[#prepared + 1] = wrk.format(method, path, fields, body)
   end
   file:close()
   assert(#prepared > 0, "no requests in " .. args[1])
   distinct = #prepared
end

function request()
   next_index = next_index % #prepared + 1
   sent = sent + 1
   return prepared[next_index]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

local threads = {}

function setup(thread)
   threads[#threads + 1] = thread
end

function done(summary, latency, requests)
   local totals = { sent = 0, non2xx = 0, distinct = 0 }
   for _, thread in ipairs(threads) do
      totals.sent = totals.sent + thread:get("sent")
      totals.non2xx = totals.non2xx + thread:get("non2xx")
      totals.distinct = math.max(totals.distinct, thread:get("distinct"))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"max_us": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
         .. '"status": %d, "non2xx": %d, "sent": %d, "distinct": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.max, errors.connect, errors.read, errors.write, errors.timeout, errors.status,
      totals.non2xx, totals.sent, totals.distinct
   ))
end

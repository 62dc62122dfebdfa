-- POSTs of the JSON body in the file BENCH_BODY, each with an Idempotency-Key of its own (thread, counter
-- and a random part of the run), so that every request creates; bearer token from BENCH_TOKEN.
local token = os.getenv("BENCH_TOKEN")
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = file:read("*a")
file:close()
local run = os.getenv("BENCH_RUN") or tostring(os.time())

local threads = 0
function setup(thread)
   thread:set("thread_id", threads)
   threads = threads + 1
end

local counter = 0
function request()
   counter = counter + 1
   local headers = {
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run, thread_id or 0, counter),
   }
   if token and token ~= "" then
      headers["Authorization"] = "Bearer " .. token
   end
   return wrk.format("POST", nil, headers, body)
end

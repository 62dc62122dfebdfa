-- Shared by every bench script: at the end, one JSON line with the figures the bench reads
-- (latencies in microseconds, from wrk's own histogram).
function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      '\nBENCH {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
      '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, errors.status,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end

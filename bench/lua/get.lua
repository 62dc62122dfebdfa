-- GET of one path with the bearer token of BENCH_TOKEN (wrk's url gives the path).
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
   wrk.headers["Authorization"] = "Bearer " .. token
end

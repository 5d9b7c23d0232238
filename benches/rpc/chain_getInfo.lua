-- wrk script: POST chain_getInfo as JSON-RPC. With TOKEN set in the environment, every
-- request carries `Authorization: Bearer $TOKEN`, so the node checks a JWT per request.
wrk.method = "POST"
local method = os.getenv("METHOD") or "chain_getInfo"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"' .. method .. '","params":[]}'
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 or not body:find('"result"', 1, true) then
    errors = errors + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("non-200 or error replies: %d\n", errors))
end

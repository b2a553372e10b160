-- preload.lua — wrk script for scripts/scale-vs-etcd.py: writes keys <prefix>%08d for 0 <= i < count, each once,
-- spread over the threads (thread t of T writes t, t+T, t+2T, ...), and stops each thread once its share is
-- acknowledged. Connections that ask for a request after the share is handed out rewrite key 0 of their share
-- (no new key), so the store ends with exactly `count` keys. With marker=PATH each thread creates PATH-<thread>
-- when it is done; the caller then interrupts wrk (SIGINT), which prints its summary.
--
--   wrk -t2 -c64 -d1h -s preload.lua URL -- api=etcd|v1 count=1000000 size=256 prefix=pre- threads=2
local threads = {}
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local x, y, z = s:byte(i, i + 2)
    local n = x * 65536 + (y or 0) * 256 + (z or 0)
    local d = {}
    for k = 3, 0, -1 do d[#d + 1] = math.floor(n / 64 ^ k) % 64 end
    out[#out + 1] = B64:sub(d[1] + 1, d[1] + 1) .. B64:sub(d[2] + 1, d[2] + 1)
      .. (y and B64:sub(d[3] + 1, d[3] + 1) or "=") .. (z and B64:sub(d[4] + 1, d[4] + 1) or "=")
  end
  return table.concat(out)
end

function init(args)
  local opts = { api = "v1", count = "1000", size = "256", prefix = "pre-", threads = "2", marker = "" }
  for _, a in ipairs(args) do
    local k, v = a:match("^(%w+)=(.*)$")
    if k then opts[k] = v end
  end
  api, prefix, marker = opts.api, opts.prefix, opts.marker
  count, size = tonumber(opts.count), tonumber(opts.size)
  nthreads = tonumber(opts.threads)  -- must equal wrk's -t
  issued, answered, failed = 0, 0, 0
  local chars = {}
  for i = 1, size do chars[i] = string.char(97 + (tid * 7 + i) % 26) end
  value = table.concat(chars)
  value64 = base64(value)
  share = math.floor((count - tid + nthreads - 1) / nthreads)
end

local function key_for(n)
  return string.format("%s%08d", prefix, tid + n * nthreads)
end

function request()
  local n = issued < share and issued or 0
  issued = issued + 1
  local key = key_for(n)
  if api == "etcd" then
    local body = '{"key":"' .. base64(key) .. '","value":"' .. value64 .. '"}'
    return wrk.format("POST", "/v3/kv/put", { ["Content-Type"] = "application/json" }, body)
  end
  return wrk.format("PUT", "/v1/kv/" .. key, { ["Content-Type"] = "application/octet-stream" }, value)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 and status ~= 201 then failed = failed + 1 end
  if answered == share then
    -- wrk runs until its duration ends even when every thread stopped: the marker tells the caller to end it.
    if marker ~= "" then
      local f = io.open(marker .. "-" .. tid, "w")
      f:write(tostring(failed))
      f:close()
    end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local answered, failed = 0, 0
  for _, t in ipairs(threads) do
    answered = answered + (t:get("answered") or 0)
    failed = failed + (t:get("failed") or 0)
  end
  io.write(string.format("PRELOAD answered=%d failed=%d\n", answered, failed))
end

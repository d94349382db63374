"""The Lua scripts of the Redis store: every read-then-write runs in Redis, atomically, on Redis's clock.

A script runs alone on the server (nothing interleaves with it), so a check's admission (kill flags, rate
windows and session counters) is one ``EVALSHA``: one round trip, all or nothing. Time is the server's
``TIME`` unless the caller passes ``now`` (tests), so every process of a fleet measures windows on one
clock whatever its own.

**Windows** follow :mod:`agent_security.core.store.windows` exactly (the same entries, trimmed, checked
and recorded the same way, so every store admits the same calls): a string of ``stamp:count`` entries
joined by ``,``, stamps written with 17 significant digits (a double round-trips exactly), sorted by
stamp, at most ``min(limit, 64)`` or 65 of them. A window key expires when its newest entry leaves the
window.

``ADMIT`` keys: the flags, then the windows, then the counters. Arguments: the three counts, ``now``
(``""``: the server's clock), then ``limit, span`` per window and ``limit, ttl_ms, amount`` per counter
(``""``: no limit, no TTL). It returns ``{admitted, refused kind (0 none, 1 flag, 2 window, 3 counter),
refused index (0-based, -1), number of window counts, number of counter values, flags..., window counts...,
counter values...}``; a flag that is not set is a nil.
"""

from __future__ import annotations

__all__ = ["ADMIT", "INCR", "RELEASE", "WINDOW_COUNT"]

_PRELUDE = r"""
local EXACT_LIMIT = 64
local SLOTS = 64

local function clock(arg)
  if arg ~= nil and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function load_window(key, span, now)
  local raw = redis.call('GET', key)
  local entries, total = {}, 0
  if raw then
    local cutoff = now - span
    for s, c in string.gmatch(raw, '([^,:]+):(%d+)') do
      local stamp, count = tonumber(s), tonumber(c)
      if stamp > cutoff then
        entries[#entries + 1] = {stamp, count}
        total = total + count
      end
    end
  end
  return {e = entries, total = total, span = span}
end

local function record(w, now, limit)
  w.total = w.total + 1
  local e = w.e
  if limit > 0 and limit <= EXACT_LIMIT then
    local pos = #e + 1
    while pos > 1 and e[pos - 1][1] > now do pos = pos - 1 end
    table.insert(e, pos, {now, 1})
    return
  end
  local slot = w.span / SLOTS
  local stamp = (math.floor(now / slot) + 1) * slot
  local n = #e
  if n > 0 and e[n][1] >= stamp then
    e[n][2] = e[n][2] + 1
  else
    e[n + 1] = {stamp, 1}
  end
end

local function save_window(key, w, now)
  local e = w.e
  if #e == 0 then
    redis.call('DEL', key)
    return
  end
  local parts = {}
  for i = 1, #e do
    parts[i] = string.format('%.17g', e[i][1]) .. ':' .. string.format('%d', e[i][2])
  end
  local ttl = math.ceil((e[#e][1] + w.span - now) * 1000)
  if ttl < 1 then ttl = 1 end
  redis.call('SET', key, table.concat(parts, ','), 'PX', ttl)
end
"""

ADMIT = (
    _PRELUDE
    + r"""
local nf, nw, nc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = clock(ARGV[4])
local out = {1, 0, -1, 0, 0}
for i = 1, nf do
  local v = redis.call('GET', KEYS[i])
  out[5 + i] = v
  if v and out[2] == 0 then
    out[1], out[2], out[3] = 0, 1, i - 1
  end
end
if out[2] ~= 0 or (nw == 0 and nc == 0) then return out end

local cache, order, counts = {}, {}, {}
for i = 1, nw do
  local key = KEYS[nf + i]
  local span = tonumber(ARGV[6 + 2 * (i - 1)])
  local w = cache[key]
  if w == nil then
    w = load_window(key, span, now)
    cache[key] = w
    order[#order + 1] = key
  end
  w.span = span
  counts[i] = w.total
end
out[4] = nw
for i = 1, nw do out[5 + nf + i] = counts[i] end
for i = 1, nw do
  local limit = tonumber(ARGV[5 + 2 * (i - 1)])
  if limit > 0 and limit <= counts[i] then
    out[1], out[2], out[3] = 0, 2, i - 1
    return out
  end
end

local base = 5 + 2 * nw
local current = {}
for j = 1, nc do
  local v = redis.call('GET', KEYS[nf + nw + j])
  current[j] = v and tonumber(v) or 0
end
for j = 1, nc do
  local cap = ARGV[base + 3 * (j - 1)]
  local amount = tonumber(ARGV[base + 3 * (j - 1) + 2])
  if cap ~= '' and current[j] + amount > tonumber(cap) then
    out[1], out[2], out[3], out[5] = 0, 3, j - 1, nc
    for k = 1, nc do out[5 + nf + nw + k] = current[k] end
    return out
  end
end

for i = 1, nw do
  local w = cache[KEYS[nf + i]]
  w.span = tonumber(ARGV[6 + 2 * (i - 1)])
  record(w, now, tonumber(ARGV[5 + 2 * (i - 1)]))
  out[5 + nf + i] = w.total
end
for _, key in ipairs(order) do save_window(key, cache[key], now) end

out[5] = nc
for j = 1, nc do
  local key = KEYS[nf + nw + j]
  local ttl = ARGV[base + 3 * (j - 1) + 1]
  local amount = tonumber(ARGV[base + 3 * (j - 1) + 2])
  local value
  if redis.call('EXISTS', key) == 1 then
    value = redis.call('INCRBY', key, amount)
  else
    value = amount
    if ttl ~= '' then
      redis.call('SET', key, amount, 'PX', ttl)
    else
      redis.call('SET', key, amount)
    end
  end
  out[5 + nf + nw + j] = value
end
return out
"""
)

WINDOW_COUNT = (
    _PRELUDE
    + r"""
local w = load_window(KEYS[1], tonumber(ARGV[1]), clock(ARGV[2]))
return w.total
"""
)

INCR = r"""
local amount = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], amount) end
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], amount, 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], amount)
end
return amount
"""

RELEASE = r"""
local v = redis.call('GET', KEYS[1])
if not v then return false end
local n = tonumber(v) - tonumber(ARGV[1])
if n < 0 then n = 0 end
redis.call('SET', KEYS[1], n, 'KEEPTTL')
return n
"""

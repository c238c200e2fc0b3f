--[[
Records one lifecycle report of the host (started, paused, resumed, ended,
archived) on a request the ledger holds in force, in one step; `ended` frees
the request's room or seats from the reported end (the turnover buffer is
added where occupancy is compared, as for every booking).
KEYS[1] is the ledger's base (a `{ledger}` hash tag): the request record and
the occupancy sets live under it, as in decide.lua. Times are epoch seconds.

ARGV[1] JSON: partner, id, status, at, reason (may be absent), trackingNo.
Returns JSON {outcome, status, at, history, finish, bookedFinish}: outcome is
recorded | repeat (this message was recorded before) | not-in-force.
]]
local base = KEYS[1]
local r = cjson.decode(ARGV[1])
local self = base .. ':req:' .. r.partner .. ':' .. r.id
local function occupancyKey(resource) return base .. ':occ:' .. resource end
local function int(n) return string.format('%d', n) end

local function result(outcome, history)
  local h = redis.call('HMGET', self, 'lifecycleStatus', 'lifecycleAt', 'finish', 'bookedFinish')
  return cjson.encode({ outcome = outcome, status = h[1] or '', at = h[2] or '', history = history, finish = h[3] or '', bookedFinish = h[4] or '' })
end

local history = cjson.decode(redis.call('HGET', self, 'lifecycle') or '[]')
for _, entry in ipairs(history) do
  -- a job run again after a crash must not record its report twice
  if entry.trackingNo == r.trackingNo then return result('repeat', history) end
end
if redis.call('HGET', self, 'state') ~= 'in-force' then return result('not-in-force', history) end

-- reports may overtake each other: the history is kept in the host's `at` order,
-- equal times in arrival order, and the latest by `at` is the current status
local position = #history + 1
for i, entry in ipairs(history) do
  if entry.at > r.at then
    position = i
    break
  end
end
table.insert(history, position, { status = r.status, at = r.at, reason = r.reason or '', trackingNo = r.trackingNo })
local latest = history[#history]

if r.status == 'ended' then
  local s = tonumber(redis.call('HGET', self, 'start'))
  local e = tonumber(redis.call('HGET', self, 'finish'))
  local resources = redis.call('HGET', self, 'resources')
  -- only ever shortened, never past what was booked: freeing time cannot double-book
  local endsAt = math.max(s, math.min(e, r.at))
  if resources and endsAt < e then
    local owner = redis.call('HGET', self, 'owner')
    local list = cjson.decode(resources)
    if redis.call('EXISTS', base .. ':occ-index:built') == 1 then
      local joined = table.concat(list, ',')
      redis.call('ZREM', base .. ':occ-index', int(s) .. ':' .. int(e) .. ':' .. owner .. '|' .. joined)
      redis.call('ZADD', base .. ':occ-index', int(s), int(s) .. ':' .. int(endsAt) .. ':' .. owner .. '|' .. joined)
    else
      -- a ledger from before decide.lua's occupancy index: its sets, which the index is built from
      for _, resource in ipairs(list) do
        redis.call('ZREM', occupancyKey(resource), int(s) .. ':' .. int(e) .. ':' .. owner)
        redis.call('ZADD', occupancyKey(resource), int(s), int(s) .. ':' .. int(endsAt) .. ':' .. owner)
      end
    end
    if not redis.call('HGET', self, 'bookedFinish') then redis.call('HSET', self, 'bookedFinish', int(e)) end
    redis.call('HSET', self, 'finish', int(endsAt))
  end
end

redis.call('HSET', self, 'lifecycle', cjson.encode(history), 'lifecycleStatus', latest.status, 'lifecycleAt', int(latest.at))
return result('recorded', history)

--[[
The room ledger's one atomic step: decide an apply, change or cancel (from
the province), or a hold, confirm, release or expiry (of a slot offered to
Changsha), or hold, book or free Zhuzhou's own host room (host-hold,
host-book, host-free; partner `host`, id `<evaluation>` or `<evaluation>:C<n>`).
All keys live under KEYS[1] (a `{ledger}` hash tag), so the script is one
transaction on one slot. Times are epoch seconds.

ROOMS ({id, kind, seats, seatNames} in best-fit order), BUFFER and MAX_SPAN (seconds) are
constants RoomLedger writes before this text (ledger/index.ts, decideScriptFor).
ARGV, by position (RoomLedger's decideArgv; '' for absent): op, partner, id, replaces,
start, finish, seats, closed ('1'), notifyId, trackingNo, decidedAt, now, offerId and
holdUntil (holds; offerId for confirms), reason (releases), evaluation and change
(host-hold), then for host-hold the ids of the evaluation's other host rooms
(whichever of them is booked counts as free, ledger rule 7).
Returns a flat array: {'held'} | {'decision', already (0/1), outcome, reason, room,
seatIds, notifyId, decidedAt, kind, state, offerId, holdUntil, trackingNo, resume...}.
`resume` lists the messages waiting on this request; they stay listed until
the caller has re-queued them (RoomLedger.resumed), so a crash in between loses none.
]]
local base = KEYS[1]
local function given(value) if value == '' then return nil end return value end
local r = {
  op = ARGV[1], partner = ARGV[2], id = ARGV[3], replaces = given(ARGV[4]),
  start = tonumber(ARGV[5]), finish = tonumber(ARGV[6]), seats = tonumber(ARGV[7]), closed = ARGV[8] == '1',
  notifyId = ARGV[9], trackingNo = ARGV[10], decidedAt = ARGV[11], now = tonumber(ARGV[12]),
  offerId = given(ARGV[13]), holdUntil = tonumber(ARGV[14]), reason = given(ARGV[15]),
  evaluation = ARGV[16], change = tonumber(ARGV[17]), sameEvaluation = { unpack(ARGV, 18) },
}

local function requestKey(id) return base .. ':req:' .. r.partner .. ':' .. id end
-- every live hold by its expiry, for the sweep behind the delayed expiry jobs
local holdsKey = base .. ':holds'
local function holdMember() return r.partner .. ':' .. r.id end
-- the sets of a ledger from before the occupancy index (ensureIndex)
local function occupancyKey(resource) return base .. ':occ:' .. resource end
local function waitingKey(id) return base .. ':wait:' .. r.partner .. ':' .. id end
local function int(n) return string.format('%d', n) end

local self = requestKey(r.id)

local function answer(d, already, resume)
  local flat = { 'decision', already and 1 or 0, d.outcome, d.reason, d.room, d.seatIds, d.notifyId, d.decidedAt, d.kind, d.state, d.offerId, d.holdUntil, d.trackingNo }
  for _, trackingNo in ipairs(resume) do flat[#flat + 1] = trackingNo end
  return flat
end

local function decisionOf(key)
  local h = redis.call('HMGET', key, 'outcome', 'reason', 'room', 'seatIds', 'notifyId', 'decidedAt', 'kind', 'state', 'offerId', 'holdUntil', 'trackingNo')
  return { outcome = h[1] or '', reason = h[2] or '', room = h[3] or '', seatIds = h[4] or '[]', notifyId = h[5] or '', decidedAt = h[6] or '', kind = h[7] or '', state = h[8] or '', offerId = h[9] or '', holdUntil = h[10] or '', trackingNo = h[11] or '' }
end

-- The answer to an event about an existing hold (confirm, release, expiry):
-- it is not stored as the request's own decision, which stays the offer.
local function eventResult(outcome, reason)
  local d = decisionOf(self)
  d.kind = r.op
  d.outcome = outcome
  d.reason = reason
  d.notifyId = r.notifyId
  d.decidedAt = r.decidedAt
  if outcome ~= 'confirmed' then
    d.room = ''
    d.seatIds = '[]'
  end
  return answer(d, false, {})
end

if r.op == 'confirm' or r.op == 'release' or r.op == 'expire' or r.op == 'host-book' or r.op == 'host-free' then
  -- handled below, once the helpers exist
elseif redis.call('HEXISTS', self, 'outcome') == 1 then
  return answer(decisionOf(self), true, redis.call('SMEMBERS', waitingKey(r.id)))
end

-- The occupancy: one member a booking, `<start>:<end>:<owner>|<resource>,<resource>...`,
-- scored by its start. A decision reads it once, over the window widened by the buffer and
-- by the longest booking ever kept, instead of one set a room and a hall seat.
local indexKey = base .. ':occ-index'
local indexSpanKey = base .. ':occ-index:span'
local indexBuiltKey = base .. ':occ-index:built'

local function indexMember(s, e, owner, resources)
  return int(s) .. ':' .. int(e) .. ':' .. owner .. '|' .. table.concat(resources, ',')
end

local function indexAdd(s, e, owner, resources)
  redis.call('ZADD', indexKey, int(s), indexMember(s, e, owner, resources))
  local span = tonumber(redis.call('GET', indexSpanKey) or '0')
  if e - s > span then redis.call('SET', indexSpanKey, int(e - s)) end
end

-- A ledger from before the index kept one set a resource (`occ:<resource>`): the index is
-- built from them once, by the first decision, in one step like every decision, and they go.
local indexReady = false
local function ensureIndex()
  if indexReady then return end
  indexReady = true
  if redis.call('EXISTS', indexBuiltKey) == 1 then return end
  local byBooking = {}
  local order = {}
  local legacy = {}
  for _, room in ipairs(ROOMS) do
    local resources = {}
    if room.kind == 'room' then resources = { room.id } else
      resources = room.seatNames
    end
    for _, resource in ipairs(resources) do
      legacy[#legacy + 1] = occupancyKey(resource)
      for _, member in ipairs(redis.call('ZRANGE', occupancyKey(resource), 0, -1)) do
        if not byBooking[member] then
          byBooking[member] = {}
          order[#order + 1] = member
        end
        table.insert(byBooking[member], resource)
      end
    end
  end
  for _, member in ipairs(order) do
    local ms, me, owner = string.match(member, '^(%d+):(%d+):(.+)$')
    indexAdd(tonumber(ms), tonumber(me), owner, byBooking[member])
  end
  for _, key in ipairs(legacy) do redis.call('DEL', key) end
  redis.call('SET', indexBuiltKey, '1')
end

-- The resources taken over [s, e) plus the buffer on each side; `ignore`: owners whose
-- occupancy counts as free (a set: owner -> true).
local function busyResources(s, e, ignore)
  ensureIndex()
  local span = tonumber(redis.call('GET', indexSpanKey) or '0')
  local members = redis.call('ZRANGEBYSCORE', indexKey, int(s - BUFFER - span), '(' .. int(e + BUFFER))
  local busy = {}
  local from, to = s - BUFFER, e + BUFFER
  for _, member in ipairs(members) do
    -- the times first: most members the widened read returns end before the window
    local ms, me, ownerAt = string.match(member, '^(%d+):(%d+):()')
    if tonumber(ms) < to and from < tonumber(me) then
      local bar = string.find(member, '|', ownerAt, true)
      if not ignore[string.sub(member, ownerAt, bar - 1)] then
        for resource in string.gmatch(string.sub(member, bar + 1), '[^,]+') do busy[resource] = true end
      end
    end
  end
  return busy
end


-- A placement: the room, the seat ids the partner is told, the resources occupied.
local function placeInRoom(room, busy)
  if room.kind == 'room' then
    if room.seats < r.seats or busy[room.id] then return nil end
    local seats = {}
    for n = 1, r.seats do seats[n] = room.seatNames[n] end
    return { room = room.id, seatIds = seats, resources = { room.id } }
  end
  local seats = {}
  for n = 1, room.seats do
    local seat = room.seatNames[n]
    if not busy[seat] then
      seats[#seats + 1] = seat
      if #seats == r.seats then return { room = room.id, seatIds = seats, resources = seats } end
    end
  end
  return nil
end

local function bestFit(ignore, preferredRoom)
  local busy = busyResources(r.start, r.finish, ignore)
  if preferredRoom then
    for _, room in ipairs(ROOMS) do
      if room.id == preferredRoom then
        local placement = placeInRoom(room, busy)
        if placement then return placement end
      end
    end
  end
  -- rooms come sorted: single-project rooms by size then id, then halls
  for _, room in ipairs(ROOMS) do
    local placement = placeInRoom(room, busy)
    if placement then return placement end
  end
  return nil
end

local function release(key)
  local booked = redis.call('HMGET', key, 'owner', 'resources', 'start', 'finish')
  local owner, resources, s, e = booked[1], booked[2], booked[3], booked[4]
  if not resources then return end
  ensureIndex()
  redis.call('ZREM', indexKey, indexMember(tonumber(s), tonumber(e), owner, cjson.decode(resources)))
end

local function book(placement)
  ensureIndex()
  indexAdd(r.start, r.finish, r.partner .. ':' .. r.id, placement.resources)
end

-- The decision, written in one HSET with the booking's fields (`placement`) and any `extra`
-- ones, and answered from what was written rather than read back.
local function decide(outcome, reason, state, placement, extra)
  local seatIds = cjson.encode(placement and placement.seatIds or {})
  local room = placement and placement.room or ''
  local fields = {
    'kind', r.op, 'outcome', outcome, 'reason', reason, 'state', state,
    'room', room, 'seatIds', seatIds,
    'replaces', r.replaces or '', 'notifyId', r.notifyId, 'decidedAt', r.decidedAt,
    'trackingNo', r.trackingNo, 'seats', r.seats or 0,
  }
  if placement then
    for _, value in ipairs({ 'resources', cjson.encode(placement.resources), 'owner', r.partner .. ':' .. r.id, 'start', int(r.start), 'finish', int(r.finish) }) do
      fields[#fields + 1] = value
    end
  end
  local more = {}
  for n = 1, #(extra or {}), 2 do
    fields[#fields + 1] = extra[n]
    fields[#fields + 1] = extra[n + 1]
    more[extra[n]] = extra[n + 1]
  end
  redis.call('HSET', self, unpack(fields))
  local decision = {
    outcome = outcome, reason = reason, room = room, seatIds = seatIds, notifyId = r.notifyId,
    decidedAt = r.decidedAt, kind = r.op, state = state, offerId = more.offerId or '',
    holdUntil = more.holdUntil or '', trackingNo = r.trackingNo,
  }
  return answer(decision, false, redis.call('SMEMBERS', waitingKey(r.id)))
end

-- Zhuzhou's own host rooms are never Changsha's offers: no slot event may end one
if r.partner == 'host' and (r.op == 'confirm' or r.op == 'release' or r.op == 'expire') then
  return eventResult('unchanged', '')
end

-- The answer to host-book and host-free: the record as it stands, with the outcome of this call.
local function hostResult(outcome)
  local d = decisionOf(self)
  d.kind = r.op
  d.outcome = outcome
  return answer(d, false, {})
end

if r.op == 'host-hold' then
  if redis.call('HGET', self, 'state') == 'released' then
    -- freed before its hold was decided (the jobs overtook each other): it holds nothing
    return decide('released', '', 'released', nil)
  end
  if r.closed then return decide('rejected', 'CENTER_CLOSED', 'rejected', nil) end
  if r.finish <= r.start or r.finish <= r.now or r.finish - r.start > MAX_SPAN then
    return decide('rejected', 'INVALID_WINDOW', 'rejected', nil)
  end
  -- make before break: the evaluation's booking in force counts as free for its change,
  -- which keeps that single-project room when it still fits (rule 7); a hold of it does not
  local ignore = {}
  local preferredRoom = nil
  for _, id in ipairs(r.sameEvaluation or {}) do
    local key = requestKey(id)
    if redis.call('HGET', key, 'state') == 'in-force' then
      ignore[r.partner .. ':' .. id] = true
      local bookedRoom = redis.call('HGET', key, 'room')
      for _, room in ipairs(ROOMS) do
        if room.id == bookedRoom and room.kind == 'room' then preferredRoom = bookedRoom end
      end
    end
  end
  local placement = bestFit(ignore, preferredRoom)
  if not placement then return decide('rejected', 'NO_CAPACITY', 'rejected', nil) end
  book(placement)
  -- not in the holds zset: a host room hold lasts until it is booked or freed, no sweep lapses it
  return decide('held', '', 'held', placement, { 'evaluation', r.evaluation, 'change', int(r.change) })
end

if r.op == 'host-book' then
  local state = redis.call('HGET', self, 'state')
  if state == 'in-force' then return hostResult('unchanged') end
  if state ~= 'held' then return hostResult('rejected') end
  redis.call('HSET', self, 'state', 'in-force', 'bookedAt', r.decidedAt)
  return hostResult('approved')
end

if r.op == 'host-free' then
  local state = redis.call('HGET', self, 'state')
  if not state then
    -- freed before its hold arrived: the hold, when it comes, holds nothing
    redis.call('HSET', self, 'state', 'released', 'kind', 'host-hold', 'releasedAt', r.decidedAt)
    return hostResult('unchanged')
  end
  if state == 'held' or state == 'in-force' then
    release(self)
    redis.call('HSET', self, 'state', 'released', 'releasedAt', r.decidedAt)
    return hostResult('released')
  end
  return hostResult('unchanged')
end

if r.op == 'confirm' then
  local state = redis.call('HGET', self, 'state')
  local offerId = redis.call('HGET', self, 'offerId')
  if offerId == r.offerId and state == 'in-force' then return eventResult('confirmed', '') end
  if offerId == r.offerId and state == 'held' and r.now < tonumber(redis.call('HGET', self, 'holdUntil')) then
    redis.call('HSET', self, 'state', 'in-force', 'confirmedAt', r.decidedAt)
    redis.call('ZREM', holdsKey, holdMember())
    return eventResult('confirmed', '')
  end
  if state == 'held' then
    redis.call('ZREM', holdsKey, holdMember())
    -- too late, or for an offer we never made: Changsha hears the request is
    -- released, so the hold ends now too (no hold is left behind that answer)
    release(self)
    redis.call('HSET', self, 'state', 'expired')
  end
  return eventResult('released', 'HOLD_EXPIRED')
end

if r.op == 'release' then
  local state = redis.call('HGET', self, 'state')
  if not state then
    -- released before its request arrived: the request, when it comes, holds nothing
    redis.call('HSET', self, 'state', 'released', 'kind', 'hold', 'releasedBy', r.trackingNo, 'releaseReason', r.reason or 'OTHER')
    return eventResult('unchanged', r.reason or 'OTHER')
  end
  if state == 'held' or state == 'in-force' then
    release(self)
    redis.call('ZREM', holdsKey, holdMember())
    redis.call('HSET', self, 'state', 'released', 'releasedBy', r.trackingNo)
    return eventResult('released', r.reason or 'OTHER')
  end
  return eventResult('unchanged', r.reason or 'OTHER')
end

if r.op == 'expire' then
  local state = redis.call('HGET', self, 'state')
  local offerId = redis.call('HGET', self, 'offerId')
  if state == 'held' and offerId == r.offerId and r.now >= tonumber(redis.call('HGET', self, 'holdUntil')) then
    release(self)
    redis.call('ZREM', holdsKey, holdMember())
    redis.call('HSET', self, 'state', 'expired')
    return eventResult('released', 'HOLD_EXPIRED')
  end
  return eventResult('unchanged', '')
end

if r.op == 'hold' then
  if redis.call('HGET', self, 'state') == 'released' then
    return decide('released', redis.call('HGET', self, 'releaseReason') or 'OTHER', 'released', nil)
  end
  if r.closed then return decide('rejected', 'CENTER_CLOSED', 'rejected', nil) end
  if r.finish <= r.now then return decide('rejected', 'INVALID_WINDOW', 'rejected', nil) end
  local placement = bestFit({}, nil)
  if not placement then return decide('rejected', 'NO_CAPACITY', 'rejected', nil) end
  book(placement)
  redis.call('ZADD', holdsKey, int(r.holdUntil), holdMember())
  return decide('held', '', 'held', placement, { 'offerId', r.offerId, 'holdUntil', int(r.holdUntil) })
end

local original = nil
if r.op ~= 'apply' then
  original = requestKey(r.replaces)
  local state = redis.call('HGET', original, 'state')
  if not state then
    -- the original has not been decided yet: wait for it, in chain order
    redis.call('SADD', waitingKey(r.replaces), r.trackingNo)
    return { 'held' }
  end
  if state ~= 'in-force' then
    return decide('rejected', 'NOT_IN_FORCE', 'rejected', nil)
  end
end

if r.op == 'cancel' then
  release(original)
  redis.call('HSET', original, 'state', 'cancelled', 'endedBy', r.id)
  return decide('cancelled', 'CANCELLED', 'applied', nil)
end

if r.closed then
  return decide('rejected', 'CENTER_CLOSED', 'rejected', nil)
end

local ignore = {}
local preferredRoom = nil
if original then
  ignore[r.partner .. ':' .. r.replaces] = true
  -- a change keeps its single-project room; from the hall it goes by best fit,
  -- since the hall is only for when no room fits (its own seats still count as free)
  local originalRoom = redis.call('HGET', original, 'room')
  for _, room in ipairs(ROOMS) do
    if room.id == originalRoom and room.kind == 'room' then preferredRoom = originalRoom end
  end
end

local placement = bestFit(ignore, preferredRoom)
if not placement then
  return decide('rejected', 'NO_CAPACITY', 'rejected', nil)
end
if original then
  release(original)
  redis.call('HSET', original, 'state', 'replaced', 'endedBy', r.id)
end
book(placement)
return decide('approved', '', 'in-force', placement)

--[[
Records one inbound message, or recognises a repeat, in one step.
KEYS: 1 message-id key, 2 request-id key, 3 replaced-by key, 4 record key,
5 the records' time index for retention (all under the partner's
`{in:<partner>}` hash tag); then, off Cluster only, the keys of ARGV 6.
ARGV: 1 trackingNo, 2 request id ('' if none), 3 content digest,
4 replaced id ('' if none), 5 received at (epoch ms), 6 the number n of
writes that go with a new record, then n pairs (RPUSH, SADD or ZADD, value)
for KEYS[6] to KEYS[5+n] (its trace and search index: one round trip less a
message; ZADD adds the value as a member scored 0; on Redis Cluster, where
they live in other slots, n is 0 and the caller writes them), then
field/value pairs of the record.
Returns {verdict, trackingNo, state}: verdict is new | repeat | conflict | replaced-elsewhere.
]]
-- the record of an earlier message: same key shape, other tracking number
local function stateOf(trackingNo)
  local key = string.gsub(KEYS[4], '[^:]+$', trackingNo)
  return redis.call('HGET', key, 'state') or ''
end

local writes = tonumber(ARGV[6])
for i = 1, writes do
  local command = ARGV[5 + 2 * i]
  if command ~= 'RPUSH' and command ~= 'SADD' and command ~= 'ZADD' then return redis.error_reply('record.lua writes only RPUSH, SADD and ZADD') end
end

local known = redis.call('GET', KEYS[1])
if known then
  return { 'repeat', known, stateOf(known) }
end
if ARGV[2] ~= '' then
  local prior = redis.call('HMGET', KEYS[2], 'trackingNo', 'digest')
  if prior[1] then
    if prior[2] ~= ARGV[3] then return { 'conflict', prior[1], '' } end
    redis.call('SET', KEYS[1], prior[1])
    return { 'repeat', prior[1], stateOf(prior[1]) }
  end
end
if ARGV[4] ~= '' then
  local claimant = redis.call('GET', KEYS[3])
  if claimant and claimant ~= ARGV[2] then return { 'replaced-elsewhere', claimant, '' } end
  redis.call('SET', KEYS[3], ARGV[2])
end
local fields = {}
for i = 7 + 2 * writes, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[4], unpack(fields))
for i = 1, writes do
  if ARGV[5 + 2 * i] == 'ZADD' then
    redis.call('ZADD', KEYS[5 + i], 0, ARGV[6 + 2 * i])
  else
    redis.call(ARGV[5 + 2 * i], KEYS[5 + i], ARGV[6 + 2 * i])
  end
end
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[2], 'trackingNo', ARGV[1], 'digest', ARGV[3])
end
return { 'new', ARGV[1], 'received' }

--[[
  Changes one entry of the cluster-wide alerts that fire now, only while the lease is
  `holder`'s and only if the entry is still what `holder` read: 1 means "send it".
  Whoever decides to start, repeat or resolve an alert (alert-engine.ts) decided on
  what it read; a planner whose lease lapsed mid-check, or that read before another
  changed the entry, never sends what the other one sends.

  KEYS[1] lease   KEYS[2] alerts hash (field: the alert's key, value: its JSON)
  ARGV[1] holder   ARGV[2] field   ARGV[3] the value read ('' none)   ARGV[4] the new value ('' remove it)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local now = redis.call('HGET', KEYS[2], ARGV[2]) or ''
if now ~= ARGV[3] then return 0 end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[2], ARGV[2])
else
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
end
return 1

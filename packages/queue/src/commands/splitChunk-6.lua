--[[
  A group job failed for good: it is replaced by one job per field, at `n` fresh
  positions of the same run, atomically: the group's position is marked finished
  without being counted, the run's total grows by n - 1 (so the run waits for the
  new jobs before it ends), runs following the group follow the first new job, and
  the group's claim goes. Idempotent: a job that calls it again (a retried split)
  gets the same positions.

  KEYS[1] run hash   KEYS[2] finished bits   KEYS[3] splits hash   KEYS[4] followers hash
  KEYS[5] the group's claim   KEYS[6] the run's chunks left per measurement
  ARGV[1] position   ARGV[2] n   ARGV[3] job id   ARGV[4] TTL (s)   ARGV[5] measurement
  Returns the first new position, or -1 if the group was counted as finished already.
]]
local base = redis.call('HGET', KEYS[3], ARGV[1])
if base then return tonumber(base) end
if redis.call('GETBIT', KEYS[2], ARGV[1]) == 1 then return -1 end
local n = tonumber(ARGV[2])
base = redis.call('HINCRBY', KEYS[1], 'seq', n) - n
redis.call('HSET', KEYS[3], ARGV[1], base)
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('SETBIT', KEYS[2], ARGV[1], 1)
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('HINCRBY', KEYS[1], 'total', n - 1)
redis.call('HINCRBY', KEYS[6], ARGV[5], n - 1)
local followers = redis.call('HGET', KEYS[4], ARGV[1])
if followers then
  redis.call('HSET', KEYS[4], string.format('%d', base), followers)
  redis.call('HDEL', KEYS[4], ARGV[1])
end
if redis.call('GET', KEYS[5]) == ARGV[3] then redis.call('DEL', KEYS[5]) end
return base

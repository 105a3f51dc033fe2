--[[
  Records that a cluster-wide alert started ('firing') or ended, only while the lease
  is `holder`'s and only if it changes: 1 means "send it", so a planner whose lease
  lapsed mid-check never sends what another one sends.

  KEYS[1] lease   KEYS[2] alerts hash
  ARGV[1] holder   ARGV[2] rule name   ARGV[3] 'firing' | 'resolved'   ARGV[4] JSON
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == 'firing' then return redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[4]) end
return redis.call('HDEL', KEYS[2], ARGV[2])

--[[
  Takes the lease of the cluster-wide alerts, or renews it if `holder` has it: one
  planner (or run) checks them at a time.

  KEYS[1] lease
  ARGV[1] holder   ARGV[2] TTL (ms)
  Returns 1 while held by `holder`, else 0.
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

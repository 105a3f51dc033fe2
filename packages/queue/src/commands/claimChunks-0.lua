--[[
  Claims a batch of chunks for the jobs that will copy them, before they are added:
  a chunk nobody holds is claimed (its claim names the job, and lapses after the
  claim TTL should that job never finish). For a chunk some job holds already, the
  holder and the claim's age are returned: settleClaims decides what to do with it,
  once the caller has the holder run's keys (and, for an old claim, has asked the
  queue whether the holder's job still exists).

  KEYS[1..n] the chunks' claims
  ARGV[1] claim TTL (s)   ARGV[2..n+1] the job id that would hold each
  Returns, per chunk: '' claimed, or 'HOLDER AGE_MS'.
]]
local ttl = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  if redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'EX', ttl) then
    out[i] = ''
  else
    local holder = redis.call('GET', KEYS[i]) or ''
    out[i] = holder .. ' ' .. string.format('%d', ttl * 1000 - redis.call('PTTL', KEYS[i]))
  end
end
return out

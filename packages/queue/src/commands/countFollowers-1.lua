--[[
  Counts a finished chunk in the runs that follow it (they planned it while its job
  was in flight), once: only while the followers finishChunk returned are still the
  ones recorded, then the record goes. A run that plans the chunk after it finished
  counts it at once (settleClaims), so the list only shrinks once the chunk is done.

  KEYS[1] the holder run's followers hash
  KEYS[2..] per follower: its run hash, failures list, chunks left per measurement
  ARGV[1] position   ARGV[2] the followers expected (space-separated run ids)
  ARGV[3] 'done' | 'failed'   ARGV[4] values   ARGV[5] failure JSON   ARGV[6] failures kept
  ARGV[7] TTL (s)    ARGV[8] measurement      ARGV[9] now (ms)   ARGV[10] when the attempt began (ms, '' unknown)
  Returns {1, ''} once counted, or {0, the followers recorded now} when they changed.
]]
--- @include "includes/finishRun"
local now = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if now ~= ARGV[2] then return {0, now} end
local done = ARGV[3] == 'done'
for k = 2, #KEYS, 3 do
  countFinished(KEYS[k], KEYS[k + 1], KEYS[k + 2], done, ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9], ARGV[10])
end
redis.call('HDEL', KEYS[1], ARGV[1])
return {1, ''}

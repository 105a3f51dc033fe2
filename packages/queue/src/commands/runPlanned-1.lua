--[[
  A run's plan is complete: its total is final. A run whose chunks all finished
  while it was still planning is stamped finished here (finishChunk stamps the
  others).

  KEYS[1] run hash
  ARGV[1] now (ms)
]]
--- @include "includes/finishRun"
redis.call('HSET', KEYS[1], 'planned', '1')
stampFinished(KEYS[1], ARGV[1])
return 0

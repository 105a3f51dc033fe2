--[[
  Counting a chunk finished for good in a run: its done or failed counter (and
  values, or its failure among the newest kept), the chunks left of its
  measurement, and the run's finish stamp once its plan is complete and every
  chunk is counted.
]]
local function stampFinished(run, now)
  local c = redis.call('HMGET', run, 'planned', 'total', 'done', 'failed')
  if c[1] == '1' and tonumber(c[3] or '0') + tonumber(c[4] or '0') >= tonumber(c[2] or '0') then
    redis.call('HSETNX', run, 'finished', now)
  end
end

-- run, failures, byMeasurement: one run's hash, failures list and chunks left per measurement.
-- started: when the chunk's attempt began (ms, '' unknown); the run's 'copying' is the earliest, so its
-- rate runs over the time spent copying, not planning (RunLedger.counters).
local function countFinished(run, failures, byMeasurement, done, values, failure, keep, ttl, measurement, now, started)
  if started ~= '' then
    local first = redis.call('HGET', run, 'copying')
    if not first or tonumber(started) < tonumber(first) then redis.call('HSET', run, 'copying', started) end
  end
  if done then
    redis.call('HINCRBY', run, 'done', 1)
    redis.call('HINCRBY', run, 'values', values)
  else
    redis.call('HINCRBY', run, 'failed', 1)
    redis.call('LPUSH', failures, failure)
    redis.call('LTRIM', failures, 0, keep - 1)
    redis.call('EXPIRE', failures, ttl)
  end
  redis.call('HINCRBY', byMeasurement, measurement, -1)
  stampFinished(run, now)
end

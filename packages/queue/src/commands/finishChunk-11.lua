--[[
  A chunk job of a run finished for good (done, or failed with no attempt left), in
  one atomic step:
  - the chunk's claim goes, if this job holds it, so the chunk planned again is
    enqueued again;
  - done: the watermark of each of its fields whose plan advances the checkpoint
    (each by its own plan, chunk index and newest value), and each field's last
    success;
  - once per job, whatever the retries or stalls (the run's bitmap of finished
    positions): the run's counters, and the totals of the run's source (a repair's
    values also as values repaired).
  Runs that planned the chunk while it was in flight follow it: their keys are not
  known here, so their ids are returned, and countFollowers counts them. They are
  returned again by a later call for the same job (its retry), until counted.

  KEYS[1] run hash     KEYS[2] finished bits   KEYS[3] failed bits   KEYS[4] followers hash
  KEYS[5] failures     KEYS[6] checkpoints     KEYS[7] checkpoint-meta
  KEYS[8] the chunk's claim   KEYS[9] totals   KEYS[10] last-success hash
  KEYS[11] the run's chunks left per measurement
  KEYS[12..] one progress hash per watermark
  ARGV[1] position    ARGV[2] 'done' | 'failed'   ARGV[3] values   ARGV[4] failure JSON
  ARGV[5] TTL (s)     ARGV[6] failures kept       ARGV[7] job id   ARGV[8] now (ms)
  ARGV[9] JSON list of the job's field ids        ARGV[10] measurement
  ARGV[11] the run's source ('' = the single databases.source)
  ARGV[12] '1' when the run is a repair (verify --repair), else '0'
  ARGV[13] when the attempt began (ms, '' unknown)
  ARGV[14..] per watermark: chunk index, newest time ('' = none), field id, meta JSON
  Returns {1 counted now | 0 counted before, the followers' run ids ('' = none)}.
]]
--- @include "includes/watermark"
--- @include "includes/finishRun"
local done = ARGV[2] == 'done'
local ttl = ARGV[5]
if redis.call('GET', KEYS[8]) == ARGV[7] then redis.call('DEL', KEYS[8]) end
if done then
  for w = 12, #KEYS do
    local a = 14 + (w - 12) * 4
    watermark(KEYS[w], KEYS[6], KEYS[7], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ttl)
  end
  for _, fid in ipairs(cjson.decode(ARGV[9])) do redis.call('HSET', KEYS[10], fid, ARGV[8]) end
end
local followers = redis.call('HGET', KEYS[4], ARGV[1]) or ''
if redis.call('SETBIT', KEYS[2], ARGV[1], 1) == 1 then return {0, followers} end
redis.call('EXPIRE', KEYS[2], ttl)
local src = ':' .. ARGV[11]
if done then
  redis.call('HINCRBY', KEYS[9], 'done' .. src, 1)
  redis.call('HINCRBY', KEYS[9], 'values' .. src, ARGV[3])
  if ARGV[12] == '1' then redis.call('HINCRBY', KEYS[9], 'repaired' .. src, ARGV[3]) end
else
  redis.call('HINCRBY', KEYS[9], 'failed' .. src, 1)
  redis.call('SETBIT', KEYS[3], ARGV[1], 1)
  redis.call('EXPIRE', KEYS[3], ttl)
end
countFinished(KEYS[1], KEYS[5], KEYS[11], done, ARGV[3], ARGV[4], tonumber(ARGV[6]), ttl, ARGV[10], ARGV[8], ARGV[13])
return {1, followers}

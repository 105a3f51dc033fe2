--[[
  Moves a checkpoint (and its meta) from an old field id to a new one unless the new
  one has its own, then drops the old one: once, atomically, however many planners
  start at once. This is how a checkpoint saved before retention policies were
  copied one by one becomes its default policy's.

  KEYS[1] checkpoints hash   KEYS[2] checkpoint-meta hash
  ARGV[1] old field id   ARGV[2] new field id
  Returns the new id's checkpoint, or nil.
]]
local fresh = redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0
for _, key in ipairs(KEYS) do
  local old = redis.call('HGET', key, ARGV[1])
  if old and fresh then redis.call('HSET', key, ARGV[2], old) end
end
local moved = redis.call('HGET', KEYS[1], ARGV[2])
for _, key in ipairs(KEYS) do redis.call('HDEL', key, ARGV[1]) end
return moved

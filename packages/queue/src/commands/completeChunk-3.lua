--[[
  Records chunk `index` of a field plan done and moves the field's checkpoint (the
  low watermark alone, without a run's counters).

  KEYS[1] the plan's progress hash   KEYS[2] checkpoints hash   KEYS[3] checkpoint-meta hash
  ARGV[1] chunk index   ARGV[2] newest time copied ('' = none)   ARGV[3] field id
  ARGV[4] meta JSON     ARGV[5] TTL (s)
  Returns {frontier, checkpoint ('' = none)}.
]]
--- @include "includes/watermark"
return watermark(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])

--[[
  The low watermark of one field's plan. Its twin in TypeScript, the same rule as
  pure logic, is packages/core/src/watermark.ts (advanceWatermark).

  Marks chunk `index` of a field plan done and moves the field's checkpoint to the
  newest value of the unbroken run of done chunks from the plan's first, never
  backwards. Marks below the frontier are dropped, so a plan's record stays small
  however many chunks it has. Times are int64 decimal strings: Lua numbers are
  doubles, so they are compared as strings (compareInt64).
]]
local function compareInt64(a, b)
  local an = string.sub(a, 1, 1) == '-'
  local bn = string.sub(b, 1, 1) == '-'
  if an ~= bn then
    if an then return -1 else return 1 end
  end
  local ad = an and string.sub(a, 2) or a
  local bd = bn and string.sub(b, 2) or b
  local r = 0
  if #ad ~= #bd then
    if #ad < #bd then r = -1 else r = 1 end
  elseif ad ~= bd then
    if ad < bd then r = -1 else r = 1 end
  end
  if an then r = -r end
  return r
end

-- progress, checkpoints, metaKey: keys; lastTime '' = the chunk held nothing.
local function watermark(progress, checkpoints, metaKey, index, lastTime, fid, meta, ttl)
  local last = lastTime
  if last == '' then last = '-' end
  local frontier = tonumber(redis.call('HGET', progress, 'frontier') or '0')
  if tonumber(index) >= frontier then
    redis.call('HSET', progress, 'c' .. index, last)
  end
  redis.call('EXPIRE', progress, ttl)
  local best = redis.call('HGET', checkpoints, fid)
  local moved = false
  while true do
    local v = redis.call('HGET', progress, 'c' .. frontier)
    if not v then break end
    if v ~= '-' and (not best or compareInt64(v, best) > 0) then
      best = v
      moved = true
    end
    redis.call('HDEL', progress, 'c' .. frontier)
    frontier = frontier + 1
  end
  redis.call('HSET', progress, 'frontier', frontier)
  if moved then
    redis.call('HSET', checkpoints, fid, best)
    redis.call('HSET', metaKey, fid, meta)
  end
  return {frontier, best or ''}
end

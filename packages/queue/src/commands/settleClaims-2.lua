--[[
  For chunks held by another run's job (claimChunks), atomically, and only while
  each claim still names the holder the caller saw (else 3: claim again):
  - the holder finished it already (its run's finished bit): counted in this run at
    once, done or failed as it went (2);
  - `takeover`: the holder's job is gone from the queue unfinished (removed by hand,
    or its queue obliterated) and the claim is old enough not to be one whose job is
    about to be added: the claim passes to this run's job (1);
  - otherwise this run follows the holder: the holder's finishChunk returns this run
    among its followers, and countFollowers counts it (0).

  KEYS[1] this run's hash   KEYS[2] this run's failures
  KEYS[3..] per chunk: its claim, the holder run's finished bits, failed bits, followers hash
  ARGV[1] TTL (s)   ARGV[2] claim TTL (s)   ARGV[3] failures kept   ARGV[4] this run's id
  ARGV[5..] per chunk: the holder expected, the holder's position, takeover '1'|'0', this run's job id
  Returns, per chunk: 0 following, 1 claimed, 2 counted at once, 3 the claim changed.
]]
local keep = tonumber(ARGV[3])
local out = {}
for c = 0, (#KEYS - 2) / 4 - 1 do
  local claim, bits, fbits, follow = KEYS[3 + c * 4], KEYS[4 + c * 4], KEYS[5 + c * 4], KEYS[6 + c * 4]
  local holder, pos, takeover, mine = ARGV[5 + c * 4], ARGV[6 + c * 4], ARGV[7 + c * 4], ARGV[8 + c * 4]
  if redis.call('GET', claim) ~= holder then
    out[#out + 1] = 3
  elseif redis.call('GETBIT', bits, pos) == 1 then
    out[#out + 1] = 2
    if redis.call('GETBIT', fbits, pos) == 1 then
      redis.call('HINCRBY', KEYS[1], 'failed', 1)
      redis.call('LPUSH', KEYS[2], cjson.encode({reason = 'failed for good as job ' .. holder}))
      redis.call('LTRIM', KEYS[2], 0, keep - 1)
      redis.call('EXPIRE', KEYS[2], ARGV[1])
    else
      redis.call('HINCRBY', KEYS[1], 'done', 1)
    end
  elseif takeover == '1' then
    redis.call('SET', claim, mine, 'EX', ARGV[2])
    out[#out + 1] = 1
  else
    local cur = redis.call('HGET', follow, pos)
    redis.call('HSET', follow, pos, cur and (cur .. ' ' .. ARGV[4]) or ARGV[4])
    redis.call('EXPIRE', follow, ARGV[1])
    out[#out + 1] = 0
  end
end
return out

-- guard: keep a checkpoint's delete apart from its restores.
-- KEYS: 1 writer (the delete operation), 2 readers (restore operations)
-- ARGV: 1 operation id, 2 'w' (delete) or 'r' (restore), 3 the writer's
-- time to live in ms (0: until released)
-- Returns 1 when granted, 0 when a delete runs, -1 when restores run.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[2] == 'w' then
  if redis.call('SCARD', KEYS[2]) > 0 then return -1 end
  if tonumber(ARGV[3]) > 0 then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  else
    redis.call('SET', KEYS[1], ARGV[1])
  end
else
  redis.call('SADD', KEYS[2], ARGV[1])
end
return 1

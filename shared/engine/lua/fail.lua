-- fail: a task's hook failed for good. The operation stops starting tasks;
-- it finishes once no task is in flight. Idempotent like complete.
-- KEYS: 1 op hash, 2 task state, 3 resource status, 4 resource reason, 5 finish claim
-- ARGV: 1 task index, 2 resource status key, 3 reason, 4 finish claim ttl (ms),
--       5 bytes done delta, 6 bytes total delta
-- Returns {0} or {2} (the caller finishes the failed operation).
local st = redis.call('HGET', KEYS[2], ARGV[1])
if st == 'd' or st == 'f' or st == 'c' then return {0} end
redis.call('HSET', KEYS[2], ARGV[1], 'f')
redis.call('HINCRBY', KEYS[1], 'tasks_failed', 1)
if ARGV[5] ~= '0' then redis.call('HINCRBY', KEYS[1], 'bytes_done', ARGV[5]) end
if ARGV[6] ~= '0' then redis.call('HINCRBY', KEYS[1], 'bytes_total', ARGV[6]) end
local inflight = redis.call('HINCRBY', KEYS[1], 'inflight', -1)
if inflight < 0 then
  redis.call('HSET', KEYS[1], 'inflight', 0)
  inflight = 0
end
redis.call('HSET', KEYS[3], ARGV[2], 'error')
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
if redis.call('HGET', KEYS[1], 'status') == 'running' then
  redis.call('HSET', KEYS[1], 'status', 'failing', 'error', ARGV[2] .. ': ' .. ARGV[3])
end
if inflight == 0 and redis.call('SET', KEYS[5], '1', 'NX', 'PX', ARGV[4]) then return {2} end
return {0}

-- begin: a hook runner claims a queued task before running its hook.
-- KEYS: 1 op hash, 2 task state hash, 3 finish claim
-- ARGV: 1 task index, 2 runner token, 3 now (ms), 4 lease renew interval (ms), 5 finish claim ttl (ms)
-- Returns {code, renew}: code 1 run it, 0 skip it (duplicate, or already
-- claimed), 2 skip it and finish the operation (it failed and this was the
-- last task in flight), -1 unknown operation. renew is 1 when the bank lease
-- is due for renewal (at most one runner per interval is told so).
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {-1, 0} end
local mine = 'r:' .. ARGV[2]
local st = redis.call('HGET', KEYS[2], ARGV[1])
if st == mine then return {1, 0} end -- a retried call of ours
if st ~= 'q' then return {0, 0} end
if status ~= 'running' then
  redis.call('HSET', KEYS[2], ARGV[1], 'c') -- cancelled: never started
  local inflight = redis.call('HINCRBY', KEYS[1], 'inflight', -1)
  if inflight <= 0 and redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[5]) then return {2, 0} end
  return {0, 0}
end
redis.call('HSET', KEYS[2], ARGV[1], mine)
local renew = 0
local last = tonumber(redis.call('HGET', KEYS[1], 'lease_at') or '0')
if tonumber(ARGV[3]) - last >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], 'lease_at', ARGV[3])
  renew = 1
end
return {1, renew}

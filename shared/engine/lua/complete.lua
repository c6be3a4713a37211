-- complete: a task's hook succeeded. One atomic, idempotent step: a duplicate
-- delivery changes nothing and counters never go negative.
-- KEYS: 1 op hash, 2 pending counters, 3 task state, 4 children, 5 parents,
--       6 nodes, 7 resource status, 8 finish claim
-- ARGV: 1 task index, 2 bytes done delta, 3 bytes total delta,
--       4 finish claim ttl (ms), 5 resource status key, 6 status to record
--       when the resource's last hook completes ('' for none)
-- Returns {0} nothing to do, {1} the operation has succeeded and the caller
-- finishes it, {2} the operation has failed and the caller finishes it, or
-- {3, task, node json, task, node json, ...}: tasks that became ready.
local t = tonumber(ARGV[1])
local st = redis.call('HGET', KEYS[3], ARGV[1])
if st == 'd' or st == 'f' or st == 'c' then return {0} end
redis.call('HSET', KEYS[3], ARGV[1], 'd')
local done = redis.call('HINCRBY', KEYS[1], 'tasks_done', 1)
local inflight = redis.call('HINCRBY', KEYS[1], 'inflight', -1)
if inflight < 0 then
  redis.call('HSET', KEYS[1], 'inflight', 0)
  inflight = 0
end
if ARGV[2] ~= '0' then redis.call('HINCRBY', KEYS[1], 'bytes_done', ARGV[2]) end
if ARGV[3] ~= '0' then redis.call('HINCRBY', KEYS[1], 'bytes_total', ARGV[3]) end
local node = math.floor(t / 4)
local hook = t % 4
if hook == 3 then
  redis.call('HINCRBY', KEYS[1], 'res_done', 1)
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[7], ARGV[5], ARGV[6]) end
end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then
  if inflight == 0 and redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[4]) then return {2} end
  return {0}
end
if done >= tonumber(redis.call('HGET', KEYS[1], 'tasks_total')) then
  if redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[4]) then return {1} end
  return {0}
end
-- Successors (spec §4.3): PB -> own PF and children's PB; PF -> own main and
-- parents' PF; main -> own complete; complete -> parents' complete.
local succ = {}
local function each(hash, offset)
  local list = redis.call('HGET', hash, node)
  if list then
    for n in string.gmatch(list, '%d+') do succ[#succ + 1] = tonumber(n) * 4 + offset end
  end
end
if hook == 0 then
  succ[1] = t + 1
  each(KEYS[4], 0)
elseif hook == 1 then
  succ[1] = t + 1
  each(KEYS[5], 1)
elseif hook == 2 then
  succ[1] = t + 1
else
  each(KEYS[5], 3)
end
local out = {3}
for _, s in ipairs(succ) do
  local n = tonumber(redis.call('HGET', KEYS[2], s) or '0')
  if n > 0 then
    n = redis.call('HINCRBY', KEYS[2], s, -1)
    if n == 0 then
      redis.call('HSET', KEYS[3], s, 'q')
      out[#out + 1] = s
      out[#out + 1] = redis.call('HGET', KEYS[6], math.floor(s / 4))
    end
  end
end
if #out > 1 then redis.call('HINCRBY', KEYS[1], 'inflight', (#out - 1) / 2) end
return out

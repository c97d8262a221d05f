#!/bin/sh
# A light fake codex for the jobs benchmark: a shell script (not a Node process, whose start-up
# would dominate on 2 cores), printing codex's JSONL events with 16 padded 64 KB events 60 ms apart.
cat >/dev/null
pad=$(head -c 65536 /dev/zero | tr '\0' p)
printf '{"type":"thread.started","thread_id":"%s"}\n' "$(cat /proc/sys/kernel/random/uuid)"
printf '{"type":"turn.started"}\n'
i=0
while [ $i -lt 16 ]; do
  printf '{"type":"item.started","item":{"id":"item_%d","type":"command_execution"},"pad":"%s"}\n' $i "$pad"
  sleep 0.06
  i=$((i + 1))
done
printf '{"type":"item.completed","item":{"id":"item_x","type":"agent_message","text":"done"}}\n'
printf '{"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1,"reasoning_output_tokens":0}}\n'

#!/bin/bash
# A light fake codex for the jobs benchmark: bash builtins only after start-up (no process per
# event, as a real CLI), printing codex's JSONL events with 16 padded 64 KB events 60 ms apart.
while read -r _; do :; done # the prompt, on stdin
exec 3<> <(:) # a pipe nobody writes to: `read -t` on it is a sleep without a process
pad=p
for ((i = 0; i < 16; i++)); do pad=$pad$pad; done # 64 KB
read -r uuid </proc/sys/kernel/random/uuid
printf '{"type":"thread.started","thread_id":"%s"}\n' "$uuid"
printf '{"type":"turn.started"}\n'
for ((i = 0; i < 16; i++)); do
  printf '{"type":"item.started","item":{"id":"item_%d","type":"command_execution"},"pad":"%s"}\n' $i "$pad"
  read -r -t 0.06 -u 3 _
done
printf '{"type":"item.completed","item":{"id":"item_x","type":"agent_message","text":"done"}}\n'
printf '{"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1,"reasoning_output_tokens":0}}\n'

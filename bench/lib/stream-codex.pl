#!/usr/bin/env perl
# A light fake codex for the jobs benchmark: one small process (a Node start-up per job would
# measure the machine, not the gateway), printing codex's JSONL events: 16 padded 64 KB events,
# 60 ms apart, then the answer and the turn's usage.
use strict;
$| = 1; # each event is written as it is printed
{ local $/; <STDIN>; } # the prompt
open(my $uuid, "<", "/proc/sys/kernel/random/uuid") or die;
chomp(my $id = <$uuid>);
my $pad = "p" x 65536;
print qq({"type":"thread.started","thread_id":"$id"}\n{"type":"turn.started"}\n);
for my $i (0 .. 15) {
  print qq({"type":"item.started","item":{"id":"item_$i","type":"command_execution"},"pad":"$pad"}\n);
  select(undef, undef, undef, 0.06);
}
print qq({"type":"item.completed","item":{"id":"item_x","type":"agent_message","text":"done"}}\n);
print qq({"type":"turn.completed","usage":{"input_tokens":1,"cached_input_tokens":0,"output_tokens":1,"reasoning_output_tokens":0}}\n);

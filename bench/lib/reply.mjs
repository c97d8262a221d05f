// The reply text inside a CLI's raw stdout (what the floor server and the relay hand back), for each
// CLI's json and stream-json formats: used to check the floor's big replies the same way as the
// gateway's.

export function replyFromStdout(cli, stdout) {
  const trimmed = stdout.trim();
  if (cli === "gemini" && trimmed.startsWith("{") && !trimmed.includes("\n{")) {
    return JSON.parse(trimmed).response ?? "";
  }
  let text = "";
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    if (cli === "claude" && (event.type === "result" || event.result !== undefined))
      text = event.result;
    if (cli === "codex" && event.type === "item.completed" && event.item?.type === "agent_message")
      text = event.item.text;
    if (cli === "gemini" && event.type === "message" && event.role === "assistant")
      text += event.content;
  }
  return text;
}

import { CLI_NAMES } from "../providers/types.js";

/**
 * The phrases the optimizer may remove. Each entry is a regular-expression source, matched
 * case-insensitively, and removable only as a whole sentence (or a whole sentence frame) in free
 * prose, never when it would take a protected span with it. The lists are short on purpose: a
 * phrase is here only if deleting it cannot change what is being asked or answered. Words such as
 * "just", "really", "actually" or "basically" are NOT here: "just one test fails" means "only one",
 * "does it really need a lock?" carries doubt.
 */

const THANKS =
  "(?:many |big )?thanks(?: so much| a lot| a ton)?(?: in advance)?(?: for (?:your|the|any) (?:help|time))?" +
  "|thank you(?: so much| very much)?(?: in advance)?(?: for (?:your|the|any) (?:help|time))?" +
  "|tia|cheers";

/** Prompt: sentences that may open a prompt (repeatedly). */
export const PROMPT_OPENERS = [
  // Greeting alone, or followed by a name (the CLIs' too).
  `(?:hi|hello|hey|greetings|good (?:morning|afternoon|evening))(?: there| all| everyone| folks| team${CLI_NAMES.map((cli) => `| ${cli}`).join("")})?(?:\\s*[,!.]+|(?=[ \\t]*\\n))`,
  "(?:i )?hope (?:you(?:'re| are) (?:doing )?well|all is well|you(?:'re| are) having a (?:good|great|nice) day)(?: today)?\\s*[.!]+",
  "sorry to bother you(?: again)?\\s*[,.!]+",
];

/** Prompt: sentences that may close a prompt (repeatedly). */
export const PROMPT_CLOSERS = [
  `(?:${THANKS})\\s*[.!]*`,
  "any (?:help|ideas?|pointers|suggestions|insights?)(?: on this)? (?:would be|is|are|will be) (?:greatly |much |really |very much )?appreciated\\s*[.!]*",
  "(?:i )?(?:really |greatly )?appreciate (?:any|your|the) (?:help|time)\\s*[.!]*",
  "(?:i )?hope (?:this|that|it) makes sense\\s*[.!]*",
  "sorry for the (?:long|lengthy) (?:post|message|question|prompt)\\s*[.!]*",
];

/**
 * Prompt: frames that open a request, replaced by "Please" (case of the first letter kept):
 * "Could you please review" → "Please review".
 */
export const PROMPT_FRAMES = [
  "(?:could|can|would) you (?:please|kindly)",
  "(?:could|can|would) you be so kind as to",
  "i was wondering (?:if|whether) you could(?: please)?",
  "i(?:'d| would) (?:really |greatly )?appreciate it if you could(?: please)?",
];

/** Prompt: asides that only apologise for asking, removed with the ", but" that ends them. */
export const PROMPT_ASIDES = [
  "(?:sorry if this is|this (?:might|may|could) be|this is probably|maybe this is) a (?:dumb|stupid|silly|basic|newbie|naive) question,? but ",
];

/** Response: sentences that may open a response (repeatedly). */
export const RESPONSE_OPENERS = [
  "(?:sure(?: thing)?|certainly|of course|absolutely|gladly|great question|good question|excellent question)\\s*[!.]+",
  "(?:i(?:'d| would) be|i'm|i am) (?:happy|glad) to help(?: (?:you )?with (?:that|this|your question))?\\s*[.!]+",
  "let me help you with (?:that|this)\\s*[.!]+",
];

/** Response: "Sure, here's …" → "Here's …". */
export const RESPONSE_SURE_HERE =
  /^(?:sure|certainly|of course|absolutely),[ \t]+(?=here(?:'s| is| are)\b)/i;

/** Response: sentences that may close a response (repeatedly). */
export const RESPONSE_CLOSERS = [
  "(?:i )?hope (?:this|that|it) helps(?: you)?(?: out)?(?: clarify things)?\\s*[.!]*",
  "let me know if you have any (?:other |more |further |additional |follow-up )?questions(?: or (?:need|want) (?:anything else|further help|more help))?\\s*[.!]*",
  "let me know if (?:you need|there's|there is) (?:anything else|any ?thing more|more help|further help|any further help|any other help)(?: I can (?:help with|do))?\\s*[.!]*",
  "let me know if (?:this|that|it) (?:helps|works(?: for you)?|answers your question)\\s*[.!]*",
  "let me know if (?:anything|something) (?:is unclear|isn't clear|doesn't work|needs clarification)\\s*[.!]*",
  "let me know if you(?:'d| would) like (?:me to )?[^\\n.!?]{1,160}[.!?]",
  "would you like me to [^\\n.!?]{1,160}\\?",
  "if you have any (?:other |more |further |additional )?questions,? (?:feel free to ask|let me know|don't hesitate to ask)\\s*[.!]*",
  "(?:feel free to|don't hesitate to) (?:ask|reach out)(?: if you have any (?:other |more |further )?questions)?\\s*[.!]*",
  "(?:happy coding|good luck|cheers|happy to help(?: further)?)\\s*[.!]*",
];

/**
 * JSON that refuses a key given twice in one object. JSON.parse keeps the last of two equal keys
 * without a word, so a checker after it blames the wrong thing (a safetensors header with one
 * tensor named twice was refused for "overlapping" another). @humanwhocodes/momoa parses with
 * locations; the walk below names the key, where it sits and where its second copy starts.
 */
import { type ValueNode, evaluate, parse } from '@humanwhocodes/momoa';

/**
 * The first key that appears twice in one object, with where it is, or null. Keys of the top
 * object's values are described as "<entry> \"name\" " (e.g. tensor "wte.weight").
 */
function duplicateKey(node: ValueNode, where: string, entry: string): string | null {
  if (node.type === 'Array') {
    for (const element of node.elements) {
      const found = duplicateKey(element.value, where, entry);
      if (found) return found;
    }
  }
  if (node.type !== 'Object') return null;
  const seen = new Set<string>();
  for (const member of node.members) {
    const key = member.name.type === 'String' ? member.name.value : member.name.name;
    if (seen.has(key)) return `${where}names "${key}" twice (the second at character ${member.loc.start.offset})`;
    seen.add(key);
    const inner = where === '' ? (key.startsWith('__') ? `${key} ` : `${entry} "${key}" `) : where;
    const found = duplicateKey(member.value, inner, entry);
    if (found) return found;
  }
  return null;
}

/**
 * Parses `text` as JSON (RFC 8259): the value, or an error sentence ("is not valid JSON: …",
 * "names \"a\" twice (the second at character 54)"). `entry` names what the top object's keys
 * are, for messages about keys inside them ("tensor", "key").
 */
export function parseJsonStrict(text: string, entry = 'key'): { value: unknown } | { error: string } {
  let document: ReturnType<typeof parse>;
  try {
    document = parse(text);
  } catch (e) {
    // A cut file (a copy or download that stopped) is the usual case: say so, where momoa names
    // the last token it read ("Unexpected token Comma found. (1:14)"); else V8's words, with
    // the position.
    try {
      JSON.parse(text);
    } catch (native) {
      const message = (native as Error).message;
      const at = /at position (\d+)/.exec(message);
      if (/end of JSON input/.test(message) || (at && Number(at[1]) >= text.trimEnd().length)) {
        return {
          error: `is not valid JSON: it ends early, after ${text.length} characters (a cut or unfinished file?)`,
        };
      }
      return { error: `is not valid JSON: ${message}` };
    }
    return { error: `is not valid JSON: ${(e as Error).message}` };
  }
  const duplicate = duplicateKey(document.body, '', entry);
  return duplicate ? { error: duplicate } : { value: evaluate(document.body) };
}

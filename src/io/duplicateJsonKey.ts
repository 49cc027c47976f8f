// JSON.parse keeps the last of duplicate keys silently; the safetensors format
// forbids duplicates, so the header text is scanned for them separately. The
// same pass counts the members of the outermost object, so a header declaring
// more tensors than a reader accepts is refused before JSON.parse allocates them.

export interface DuplicateJsonKey {
  key: string;
  /** The keys of the objects enclosing the duplicate, outermost first. */
  path: string[];
}

export interface JsonKeyScan {
  /** The first key that appears twice in the same object; null if none. */
  duplicate: DuplicateJsonKey | null;
  /** Members of the outermost object seen (the scan stops early, see scanJsonKeys). */
  topLevelKeys: number;
}

/**
 * One linear pass over `json`: the first duplicate key and the number of
 * members of the outermost object. Stops at the first duplicate or as soon as
 * the count exceeds `maxTopLevelKeys`. Never throws and always terminates; on
 * invalid JSON the answer is meaningless (parse it to report that).
 */
export function scanJsonKeys(json: string, maxTopLevelKeys = Infinity): JsonKeyScan {
  // One entry per open object or array: the keys seen so far (null for arrays).
  const open: (Set<string> | null)[] = [];
  // The keys leading from the outermost object to the innermost open one.
  const path: string[] = [];
  let topLevelKeys = 0;
  let lastKey = '';
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = decodeJsonString(json.slice(i, end + 1));
        if (keys.has(key)) return { duplicate: { key, path: [...path] }, topLevelKeys };
        keys.add(key);
        lastKey = key;
        if (open.length === 1 && ++topLevelKeys > maxTopLevelKeys) break;
      }
      expectKey = false;
      i = end;
    } else if (c === '{' || c === '[') {
      if (open.length > 0) path.push(lastKey);
      open.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      open.pop();
      if (open.length > 0) path.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = open[open.length - 1] != null;
    }
  }
  return { duplicate: null, topLevelKeys };
}

/** The first key that appears twice in the same object of `json` (valid JSON), with the keys enclosing it; null if none. */
export function findDuplicateJsonKey(json: string): DuplicateJsonKey | null {
  return scanJsonKeys(json).duplicate;
}

/** The value of a quoted JSON string; the raw text where it is not valid (invalid JSON is reported by JSON.parse). */
function decodeJsonString(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted;
  }
}

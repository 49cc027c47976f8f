// JSON.parse keeps the last of duplicate keys silently; the safetensors format
// forbids duplicates, so the header text is scanned for them separately.

/**
 * The first key that appears twice in the same object of `json` (which must
 * already be valid JSON), with the keys of the objects enclosing it; null if none.
 */
export function findDuplicateJsonKey(json: string): { key: string; path: string[] } | null {
  // One entry per open object or array: the keys seen so far (null for arrays).
  const open: (Set<string> | null)[] = [];
  // The keys leading from the outermost object to the innermost open one.
  const path: string[] = [];
  let lastKey = '';
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        if (keys.has(key)) return { key, path: [...path] };
        keys.add(key);
        lastKey = key;
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
  return null;
}

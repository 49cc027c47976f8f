// The key scanner behind the safetensors header checks: duplicates, counting, and termination on any text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findDuplicateJsonKey, scanJsonKeys } from '../../src/io/duplicateJsonKey.js';

test('finds the first duplicate key with the keys enclosing it', () => {
  assert.equal(findDuplicateJsonKey('{"a":1,"b":{"c":[{"d":1}]}}'), null);
  assert.deepEqual(findDuplicateJsonKey('{"a":1,"b":{"c":1,"c":2}}'), { key: 'c', path: ['b'] });
  assert.deepEqual(findDuplicateJsonKey('{"a":[{"x":1},{"x":2}],"a":0}'), { key: 'a', path: [] });
  // Escapes are decoded before comparing.
  assert.deepEqual(findDuplicateJsonKey('{"\\u0061":1,"a":2}'), { key: 'a', path: [] });
});

test('counts the members of the outermost object and stops past the limit', () => {
  assert.equal(scanJsonKeys('{"a":{"x":1,"y":2},"b":[1,{"z":3}],"c":"d"}').topLevelKeys, 3);
  assert.equal(scanJsonKeys('{"a":1,"b":2,"c":3,"d":4}', 2).topLevelKeys, 3);
});

test('terminates without throwing on text that is not JSON', () => {
  for (const text of ['{"a', '{"a\\', '{"\\x":1}', '{{{{', ']]]}}}', '"', '{"a":"b', '{,,,"a"', '']) {
    assert.doesNotThrow(() => scanJsonKeys(text), text);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fmt from '../../src/report/format.js';
import { escapeHtml } from '../../src/report/html.js';
import { shellWord } from '../../src/report/hints.js';

test('numbers as the report shows them', () => {
  assert.equal(fmt.percent(0.4567), '45.67%');
  assert.equal(fmt.percent(null), '—');
  assert.equal(fmt.points(-0.3), '−30.00 pp');
  assert.equal(fmt.points(0.015), '+1.50 pp');
  assert.equal(fmt.epsilon(8 / 255), '0.03137 (8/255)');
  assert.equal(fmt.epsilon(0.1), '0.1');
  assert.equal(fmt.epsilon(0.2), '0.2', 'a round budget is not shown as 51/255');
  assert.equal(fmt.epsilon(0.5), '0.5');
  assert.equal(fmt.seconds(42), '42.0 s');
  assert.equal(fmt.seconds(600), '10.0 min');
  assert.equal(fmt.seconds(7200), '2.00 h');
  assert.equal(fmt.number(2.3e-7), '2.300e-7');
  assert.equal(fmt.number(0.123456), '0.1235');
  assert.equal(fmt.configValue([2, 4]), '2,4');
  assert.equal(fmt.configValue(null), '—');
  assert.equal(fmt.configValue({ a: 1 }), '{"a":1}');
});

test('text is escaped for HTML and commands for the shell', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(shellWord('/tmp/run-1'), '/tmp/run-1');
  assert.equal(shellWord("my run's"), `'my run'\\''s'`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { formatNumber, languageCandidates, setCatalogue, t } from '../i18n/i18n.js';
import { readCatalogue } from './catalogue.mjs';

const codes = readdirSync(new URL('../i18n/', import.meta.url)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
const placeholders = (text) => new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));

test('every catalogue has every English key, no other, and no placeholder English does not fill', () => {
  const english = readCatalogue('en');
  assert.ok(codes.includes('ur'));
  for (const code of codes) {
    const messages = readCatalogue(code);
    assert.deepEqual(Object.keys(messages).sort(), Object.keys(english).sort(), code);
    for (const [key, text] of Object.entries(messages)) {
      assert.equal(typeof text, 'string', `${code} ${key}`);
      assert.ok(text.length > 0, `${code} ${key} is empty`);
      for (const name of placeholders(text)) assert.ok(placeholders(english[key]).has(name), `${code} ${key}: {${name}}`);
    }
    assert.ok(['ltr', 'rtl'].includes(messages['language.dir']), code);
  }
});

test('Urdu is right to left and translates every sentence (no English word left in it)', () => {
  const urdu = readCatalogue('ur');
  assert.equal(urdu['language.dir'], 'rtl');
  for (const [key, text] of Object.entries(urdu)) {
    if (key === 'language.locale' || key === 'language.dir') continue;
    const words = text.replace(/\{\w+\}/g, '').match(/[A-Za-z]{2,}/g) ?? [];
    assert.deepEqual(words, [], `${key}: ${text}`);
  }
});

test('every key the pages and modules use is in the English catalogue', () => {
  const english = readCatalogue('en');
  const sources = ['join.js', 'check.js', 'index.js', 'join.html', 'check.html', 'index.html', 'session/start-mode.js',
    'session/pose-files.js', 'session/reconnect.js', 'session/errors.js', 'session/quality.js', 'session/pose.js', 'session/pose-view.js'];
  const used = new Set();
  for (const source of sources) {
    const text = readFileSync(new URL(`../${source}`, import.meta.url), 'utf8');
    for (const m of text.matchAll(/(?:data-i18n(?:-[a-z-]+)?="|data-title="|\bt\(\s*'|say\([^,]+,\s*'|notify\(\s*'|endCall\(\s*'|fail\(\s*'|announce\(\s*'|showModel\(\s*'|\bkey: ')([a-zA-Z-]+(?:\.[a-zA-Z-]+)+)['"]/g)) used.add(m[1]);
  }
  assert.ok(used.size > 60, `found ${used.size} keys`);
  for (const key of used) assert.ok(key in english, `missing key ${key}`);
});

test('messages fill their placeholders, numbers in the locale; an unknown key shows itself', () => {
  setCatalogue('en', { greeting: 'Hello {name}, {n} new', 'language.locale': 'en' });
  assert.equal(t('greeting', { name: 'Ana', n: 1.25 }), 'Hello Ana, 1.3 new');
  assert.equal(t('greeting'), 'Hello {name}, {n} new');
  assert.equal(t('nothing.here'), 'nothing.here');
  setCatalogue('ar', { 'language.locale': 'ar-EG' });
  assert.equal(formatNumber(12.5, 1, true), '١٢٫٥');
  setCatalogue('en', readCatalogue('en'));
  assert.equal(formatNumber(0, 1, true), '0.0');
});

test('the language: the stored choice, then the session link, then the browser, then English', () => {
  assert.deepEqual(languageCandidates({ stored: 'ur', link: 'en', browser: ['en-GB'] }), ['ur', 'en']);
  assert.deepEqual(languageCandidates({ link: 'ur', browser: ['en-US', 'ur-PK'] }), ['ur', 'en']);
  assert.deepEqual(languageCandidates({ browser: ['ur-PK', 'en'] }), ['ur', 'en']);
  assert.deepEqual(languageCandidates({ stored: '../x', link: 'UR<', browser: [] }), ['en']);
});

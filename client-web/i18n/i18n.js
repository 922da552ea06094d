// The pages' words. Every visible string, error and status comes from a message catalogue: one file per language,
// i18n/<code>.json, flat keys to text with {name} placeholders, plus three keys about the language itself
// ("language.name" in its own script, "language.dir" ltr | rtl, "language.locale" for numbers and times).
// Adding a language is adding its file (docs/client-web.md). Pure apart from fetch and the document it is given.
//
// Which language a page speaks, first that has a catalogue: the one the person chose on a page (kept on the device),
// the session's default (the join link's ?lang=, set by the operator), the browser's languages, English.

export const DEFAULT_LANGUAGE = 'en';
export const LANGUAGE_KEY = 'telerehab.language';
const CODE = /^[a-z]{2,3}$/;

let current = { code: DEFAULT_LANGUAGE, messages: {}, locale: DEFAULT_LANGUAGE, dir: 'ltr' };
const shown = new WeakMap(); // element -> { key, params, attribute } it was last given by say()
const listeners = new Set();

/** Makes `messages` (a parsed catalogue) the current one. */
export function setCatalogue(code, messages) {
  current = { code, messages, locale: messages['language.locale'] || code, dir: messages['language.dir'] === 'rtl' ? 'rtl' : 'ltr' };
}

export function language() {
  return current;
}

/** The text of `key` with its {placeholders} filled from `params` (numbers formatted for the locale); the key itself
 * when the catalogue has no such message (a test walks the catalogues so none is missing). */
export function t(key, params = {}) {
  const text = current.messages[key];
  if (typeof text !== 'string') return key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? formatValue(params[name]) : whole));
}

function formatValue(value) {
  return typeof value === 'number' ? formatNumber(value) : String(value);
}

/** A number as the locale writes it (at most `digits` decimals, exactly `digits` when `fixed`). */
export function formatNumber(value, digits = 1, fixed = false) {
  return new Intl.NumberFormat(current.locale, {
    maximumFractionDigits: digits, minimumFractionDigits: fixed ? digits : 0, useGrouping: false,
  }).format(value);
}

/** A time of day as the locale writes it (hours and minutes). */
export function formatTime(epochMs) {
  return new Intl.DateTimeFormat(current.locale, { hour: 'numeric', minute: '2-digit' }).format(new Date(epochMs));
}

/** The languages to try, best first (codes only, no duplicates): stored choice, link, browser, English. */
export function languageCandidates({ stored = null, link = null, browser = [] }) {
  const codes = [stored, link, ...browser.map((tag) => String(tag).toLowerCase().split('-')[0]), DEFAULT_LANGUAGE];
  return [...new Set(codes.filter((code) => typeof code === 'string' && CODE.test(code)))];
}

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`);
  if (!response.ok) throw new Error(`no catalogue for ${code} (${response.status})`);
  return response.json();
}

function storedChoice() {
  try { return localStorage.getItem(LANGUAGE_KEY); } catch { return null; }
}

/** The language the session link asks for (?lang=), or null. */
export function linkLanguage(search = location.search) {
  return new URLSearchParams(search).get('lang');
}

/** Loads the first candidate language that has a catalogue, and applies it to the document. */
export async function initLanguage(doc = document) {
  const candidates = languageCandidates({ stored: storedChoice(), link: linkLanguage(), browser: navigator.languages ?? [navigator.language] });
  for (const code of candidates) {
    try {
      setCatalogue(code, await fetchCatalogue(code));
      break;
    } catch {
      // the next candidate
    }
  }
  applyLanguage(doc);
  doc.documentElement.classList.remove('i18n-loading');
}

/** Switches to `code` on the page (and keeps the choice on this device). */
export async function switchLanguage(code, doc = document) {
  setCatalogue(code, await fetchCatalogue(code));
  try { localStorage.setItem(LANGUAGE_KEY, code); } catch { /* kept for this page only */ }
  applyLanguage(doc);
  for (const listener of listeners) listener(current);
}

/** Called after every switch (to repaint what a page composes itself). */
export function onLanguageChange(listener) {
  listeners.add(listener);
}

/** Sets an element's text (or an attribute) to a message, and keeps which, so a switch repaints it. */
export function say(element, key, params = {}, attribute = null) {
  shown.set(element, { ...(shown.get(element) ?? {}), [attribute ?? '#text']: { key, params } });
  paint(element, attribute, key, params);
}

function paint(element, attribute, key, params) {
  const text = key ? t(key, params) : '';
  if (attribute) element.setAttribute(attribute, text);
  else if (element.textContent !== text) element.textContent = text;
}

/** The document in the current language: <html lang dir>, every data-i18n element (its text), every
 * data-i18n-<attribute> element (that attribute), every element given a message by say(), and the switcher. */
export function applyLanguage(doc = document) {
  doc.documentElement.lang = current.code;
  doc.documentElement.dir = current.dir;
  for (const element of doc.querySelectorAll('*')) {
    for (const name of element.getAttributeNames()) {
      if (name === 'data-i18n') paint(element, null, element.getAttribute(name), {});
      else if (name.startsWith('data-i18n-')) paint(element, name.slice('data-i18n-'.length), element.getAttribute(name), {});
    }
    const said = shown.get(element);
    if (said) for (const [attribute, { key, params }] of Object.entries(said)) paint(element, attribute === '#text' ? null : attribute, key, params);
  }
  if (doc.title !== undefined && current.messages[doc.documentElement.dataset.title]) doc.title = t(doc.documentElement.dataset.title);
  for (const button of doc.querySelectorAll('[data-language]')) {
    button.setAttribute('aria-pressed', String(button.dataset.language === current.code));
  }
}

/** Fills `nav` with one button per language the server has (GET /api/languages), each named in its own language. */
export async function fillLanguageSwitch(nav, doc = document) {
  let languages;
  try {
    languages = await (await fetch('/api/languages')).json();
  } catch {
    return;
  }
  nav.replaceChildren(...languages.map(({ code, name }) => {
    const button = doc.createElement('button');
    button.type = 'button';
    button.className = 'language-button';
    button.lang = code;
    button.dataset.language = code;
    button.dataset.testid = `language-${code}`;
    button.textContent = name;
    button.setAttribute('aria-pressed', String(code === current.code));
    button.addEventListener('click', () => { switchLanguage(code, doc).catch(() => {}); });
    return button;
  }));
}

/** A size in megabytes, one decimal, in the locale's digits ("12.2 MB"). */
export function megabytes(bytes) {
  return t('unit.mb', { value: formatNumber(bytes / 1e6, 1, true) });
}

// The demo page: creates a session through POST /api/demo/sessions (in the page's language) and lists its join links.
import { fillLanguageSwitch, initLanguage, language, onLanguageChange, say, t } from './i18n/i18n.js';

const $ = (id) => document.getElementById(id);

// The link to /check carries the page's language.
function paintCheckLink() {
  $('check-link').href = `/check?lang=${language().code}`;
}

async function start(kind) {
  say($('demo-error'), null);
  $('demo-links').replaceChildren();
  try {
    const response = await fetch('/api/demo/sessions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind, language: language().code }) });
    // The server's refusal in the page's words (its English text is for operators).
    if (response.status !== 201) throw Object.assign(new Error(await response.text()), { key: response.status === 403 ? 'demo.unavailable' : 'error.invalid' });
    const session = await response.json();
    const counts = {};
    $('demo-links').replaceChildren(...session.links.map((link) => {
      counts[link.role] = (counts[link.role] ?? 0) + 1;
      const item = document.createElement('li');
      const anchor = document.createElement('a');
      anchor.href = link.link;
      anchor.target = '_blank';
      anchor.rel = 'noopener';
      say(anchor, `demo.joinAs.${link.role}`, { n: counts[link.role] });
      anchor.dataset.testid = `demo-link-${link.role}`;
      item.append(anchor);
      return item;
    }));
  } catch (error) {
    say($('demo-error'), 'demo.error', { reason: t(error.key ?? 'error.connection') });
  }
}

async function init() {
  await initLanguage();
  paintCheckLink();
  onLanguageChange(paintCheckLink);
  fillLanguageSwitch($('language-switch'));
  const { available } = await (await fetch('/api/demo')).json();
  if (!available) {
    say($('demo-note'), 'demo.unavailable');
    $('demo-one').disabled = true;
    $('demo-group').disabled = true;
  }
}

$('demo-one').addEventListener('click', () => start('one-to-one'));
$('demo-group').addEventListener('click', () => start('group'));
init();

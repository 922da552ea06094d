// The demo page: creates a session through POST /api/demo/sessions and lists its join links.
const $ = (id) => document.getElementById(id);

async function start(kind) {
  $('demo-error').textContent = '';
  $('demo-links').replaceChildren();
  try {
    const response = await fetch('/api/demo/sessions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind }) });
    if (response.status !== 201) throw new Error(await response.text());
    const session = await response.json();
    $('demo-links').replaceChildren(...session.links.map((link) => {
      const item = document.createElement('li');
      const anchor = document.createElement('a');
      anchor.href = link.link;
      anchor.target = '_blank';
      anchor.rel = 'noopener';
      anchor.textContent = `Join as ${link.name}`;
      anchor.dataset.testid = `demo-link-${link.role}`;
      item.append(anchor);
      return item;
    }));
  } catch (error) {
    $('demo-error').textContent = `Could not start a demo session: ${error.message}`;
  }
}

async function init() {
  const { available } = await (await fetch('/api/demo')).json();
  if (!available) {
    $('demo-note').textContent = 'The demo is not available from this address. Ask your clinic for a session link.';
    $('demo-one').disabled = true;
    $('demo-group').disabled = true;
  }
}

$('demo-one').addEventListener('click', () => start('one-to-one'));
$('demo-group').addEventListener('click', () => start('group'));
init();

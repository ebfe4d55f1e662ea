// Behaviour shared by every admin page. Each feature is opt-in through a
// data-* attribute in the server's markup, so a page without that markup
// pays nothing, and without JavaScript every form still works as plain HTML.
import htmx from 'htmx.org';
import { problemDetail } from './problem.js';

// The pages run under a CSP without 'unsafe-inline' or 'unsafe-eval'. htmx
// reads these when it processes the page at DOMContentLoaded, which comes
// after this deferred script has run, so setting them here is in time.
htmx.config.includeIndicatorStyles = false; // it would inject a <style>
htmx.config.allowEval = false; // hx-on / js: expressions need eval
htmx.config.selfRequestsOnly = true;
htmx.config.allowScriptTags = false;
window.htmx = htmx;

const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const byId = (id) => (id ? document.getElementById(id.trim()) : null);

// slugify mirrors the server's slug rules closely enough for a suggestion;
// the server still validates what is submitted.
function slugify(s) {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
}

function initSlugs() {
  for (const slug of $$('input[data-slug-from]')) {
    const title = byId(slug.dataset.slugFrom);
    if (!title) continue;
    // An article that already has a slug keeps it: changing a published URL
    // must be a deliberate edit.
    let follow = !(slug.value !== '' && slug.hasAttribute('data-slug-edited'));
    slug.addEventListener('input', () => (follow = false));
    title.addEventListener('input', () => {
      if (!follow) return;
      slug.value = slugify(title.value);
      // Let the search preview and counters see the new value.
      slug.dispatchEvent(new Event('change', { bubbles: true }));
    });
  }
}

function initCounters() {
  for (const field of $$('[data-count]')) {
    const out = byId(field.dataset.count);
    if (!out) continue;
    const max = Number(field.dataset.countMax || field.getAttribute('maxlength')) || 0;
    const update = () => {
      const n = [...field.value].length; // count characters, not UTF-16 units
      out.textContent = max ? `${n} / ${max}` : String(n);
      out.classList.toggle('over', max > 0 && n > max);
    };
    field.addEventListener('input', update);
    field.addEventListener('change', update);
    update();
  }
}

function initSerp() {
  for (const box of $$('[data-serp]')) {
    const ids = (name) => (box.getAttribute(name) || '').split(',').map(byId).filter(Boolean);
    const first = (inputs) => inputs.map((i) => i.value.trim()).find((v) => v) || '';
    const titles = ids('data-serp-title');
    const descs = ids('data-serp-desc');
    const slugs = ids('data-serp-slug');
    const base = box.getAttribute('data-serp-url-base') || '';
    const set = (sel, text) => {
      const el = box.querySelector(sel);
      if (el) el.textContent = text;
    };
    const update = () => {
      set('[data-preview-title]', first(titles));
      set('[data-preview-desc]', first(descs));
      set('[data-preview-url]', base + first(slugs));
    };
    for (const input of [...titles, ...descs, ...slugs]) {
      input.addEventListener('input', update);
      input.addEventListener('change', update);
    }
    update();
  }
}

function timeOfDay(d = new Date()) {
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function initAutosave() {
  for (const form of $$('form[data-autosave]')) {
    const url = form.dataset.autosave;
    const status = form.querySelector('[data-autosave-status]') || document.querySelector('[data-autosave-status]');
    const say = (text) => status && (status.textContent = text);
    let timer = 0;
    let inFlight = false;
    let dirty = false; // an edit arrived while a request was in flight
    let submitting = false;

    const save = async () => {
      timer = 0;
      if (submitting) return;
      if (inFlight) {
        dirty = true;
        return;
      }
      inFlight = true;
      dirty = false;
      // The rich-text editor keeps its HTML to itself until asked.
      form.dispatchEvent(new CustomEvent('cms:sync'));
      try {
        const res = await fetch(url, { method: 'POST', body: new FormData(form), credentials: 'same-origin' });
        say(res.ok ? `Autosaved at ${timeOfDay()}` : 'Autosave failed');
      } catch {
        say('Autosave failed');
      } finally {
        inFlight = false;
        if (dirty && !submitting) schedule();
      }
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(save, 3000);
    };
    form.addEventListener('input', () => !submitting && schedule());
    form.addEventListener('submit', () => {
      submitting = true;
      clearTimeout(timer);
    });
  }
}

function initTimeZone() {
  for (const input of $$('input[type="hidden"][data-tz-offset]')) {
    input.value = String(new Date().getTimezoneOffset());
  }
}

function initDropzones() {
  for (const form of $$('form[data-dropzone]')) {
    const status = form.querySelector('[data-dropzone-status]');
    const say = (text) => status && (status.textContent = text);
    // Counting enter/leave keeps the highlight steady while the pointer
    // moves across the form's children.
    let depth = 0;
    const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
    form.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      form.classList.add('dragover');
    });
    form.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    form.addEventListener('dragleave', () => {
      if (--depth <= 0) {
        depth = 0;
        form.classList.remove('dragover');
      }
    });
    form.addEventListener('drop', async (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      form.classList.remove('dragover');
      const files = Array.from(e.dataTransfer.files);
      const errors = [];
      // One at a time: the server resizes each image, and the status line
      // can then say honestly which file is being sent.
      for (const [i, file] of files.entries()) {
        say(`Uploading ${i + 1} of ${files.length}: ${file.name}…`);
        const data = new FormData(form);
        data.set('file', file, file.name);
        try {
          const res = await fetch(form.action, {
            method: 'POST',
            body: data,
            credentials: 'same-origin',
            headers: { Accept: 'application/json' },
          });
          if (!res.ok) errors.push(`${file.name}: ${await problemDetail(res)}`);
        } catch {
          errors.push(`${file.name}: network error`);
        }
      }
      if (errors.length) {
        // Leave the errors readable; the files that did upload show up on
        // the next load.
        say(`Upload failed for ${errors.length} of ${files.length}. ${errors.join(' ')}`);
        if (status) status.setAttribute('role', 'alert');
        return;
      }
      say(files.length === 1 ? 'Uploaded. Reloading…' : `Uploaded ${files.length} files. Reloading…`);
      location.reload();
    });
  }
}

function initCopy() {
  for (const button of $$('button[data-copy]')) {
    const label = button.textContent;
    let timer = 0;
    button.addEventListener('click', async () => {
      const input = byId(button.dataset.copy);
      if (!input) return;
      try {
        await navigator.clipboard.writeText(input.value);
        button.textContent = 'Copied';
      } catch {
        // Clipboard access needs a secure context; selecting the text lets
        // the user copy by hand instead.
        input.select();
        button.textContent = 'Press Ctrl+C to copy';
      }
      clearTimeout(timer);
      timer = setTimeout(() => (button.textContent = label), 2000);
    });
  }
}

function init() {
  initSlugs();
  initCounters();
  initSerp();
  initAutosave();
  initTimeZone();
  initDropzones();
  initCopy();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();

// The article body editor. The server renders a plain <textarea> that works
// without JavaScript; this script puts a TipTap editor next to it, hides the
// textarea and copies the editor's HTML back into it, so the form posts
// exactly what it would have posted without us.
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';
import Image from '@tiptap/extension-image';
import { cleanPastedHTML } from './paste.js';
import { problemDetail } from './problem.js';

// h builds an element. Attributes go through setAttribute, so never pass
// "style" (the CSP blocks it); event handlers are passed as on* functions.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.filter((c) => c != null));
  return el;
}

function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

let uid = 0;
const nextId = (name) => `editor-${name}-${++uid}`;

// A labelled text input: <div class="field"><label>…</label><input></div>.
function field(labelText, attrs) {
  const id = nextId('f');
  const input = h('input', { id, ...attrs });
  return { input, el: h('div', { class: 'field' }, h('label', { for: id }, labelText), input) };
}

// A modal dialog with a heading naming it. Dialogs live in <body>, not in
// the article form: their inputs must not trigger autosave or submit it.
function makeDialog(title, editor) {
  const headingId = nextId('dlg');
  const dialog = h('dialog', { 'aria-labelledby': headingId, class: 'editor-dialog' }, h('h2', { id: headingId }, title));
  dialog.addEventListener('close', () => editor.commands.focus());
  document.body.append(dialog);
  return dialog;
}

// JSON search with the newest query winning: an older, slower answer must
// not overwrite the results of what the user typed last.
function searcher(urlBase, render, onError) {
  let ctrl = null;
  return async (q) => {
    ctrl?.abort();
    ctrl = new AbortController();
    const url = new URL(urlBase, location.href);
    url.searchParams.set('q', q);
    try {
      const res = await fetch(url, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        signal: ctrl.signal,
      });
      if (!res.ok) return onError(await problemDetail(res));
      const body = await res.json();
      render(Array.isArray(body.items) ? body.items : []);
    } catch (err) {
      if (err.name !== 'AbortError') onError('Search failed.');
    }
  };
}

function linkDialog(editor) {
  const dialog = makeDialog('Link', editor);
  const url = field('Link URL', { type: 'url', name: 'href', inputmode: 'url', autocomplete: 'off', placeholder: 'https://' });
  // type=url would refuse relative links and mailto-less addresses in some
  // browsers' validation; we validate ourselves.
  url.input.type = 'text';
  const error = h('p', { class: 'error', role: 'alert' });
  const apply = () => {
    const href = url.input.value.trim();
    if (!href) return remove();
    if (!/^(https?:\/\/|mailto:|tel:|\/|#)/i.test(href)) {
      error.textContent = 'Use a full address (https://…), mailto:, tel: or a path starting with /.';
      return;
    }
    const chain = editor.chain().focus();
    if (editor.state.selection.empty && !editor.isActive('link')) {
      chain.insertContent({ type: 'text', text: href, marks: [{ type: 'link', attrs: { href } }] }).run();
    } else {
      chain.extendMarkRange('link').setLink({ href }).run();
    }
    dialog.close();
  };
  const remove = () => {
    editor.chain().focus().extendMarkRange('link').unsetLink().run();
    dialog.close();
  };
  const form = h(
    'form',
    { onsubmit: (e) => (e.preventDefault(), apply()) },
    url.el,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply'),
      h('button', { type: 'button', class: 'danger', onclick: remove }, 'Remove link'),
      h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
    ),
  );
  dialog.append(form);
  return () => {
    url.input.value = editor.getAttributes('link').href || '';
    error.textContent = '';
    dialog.showModal();
    url.input.focus();
    url.input.select();
  };
}

function imageDialog(editor, host) {
  const dialog = makeDialog('Insert image', editor);
  const search = field('Search media', { type: 'search', autocomplete: 'off' });
  const list = h('ul', { class: 'media-grid', 'aria-label': 'Media library' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });
  const error = h('p', { class: 'error', role: 'alert' });

  const insert = (item) => {
    editor
      .chain()
      .focus()
      .insertContent({
        type: 'image',
        attrs: { src: item.url, alt: item.alt || '', width: item.width || null, height: item.height || null },
      })
      .run();
    dialog.close();
  };
  const render = (items) => {
    list.replaceChildren(
      ...items.map((item) =>
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', class: 'media-pick', 'aria-label': `Insert image: ${item.alt || item.url}`, onclick: () => insert(item) },
            h('img', { src: item.thumb || item.url, alt: '', loading: 'lazy', width: 160, height: 120 }),
            h('span', {}, item.alt || '(no alt text)'),
          ),
        ),
      ),
    );
    status.textContent = items.length ? `${items.length} images` : 'No images found.';
  };
  const find = searcher(host.dataset.mediaUrl, render, (msg) => (status.textContent = msg));
  const findSoon = debounce(find, 250);
  search.input.addEventListener('input', () => findSoon(search.input.value));

  const file = field('Upload image', { type: 'file', name: 'file', accept: 'image/*' });
  const alt = field('Alt text', { type: 'text', name: 'alt', autocomplete: 'off' });
  const upload = h('button', { type: 'submit', class: 'primary' }, 'Upload and insert');
  const uploadForm = h(
    'form',
    {
      class: 'upload',
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        const f = file.input.files[0];
        if (!f) return (error.textContent = 'Choose an image file first.');
        const data = new FormData();
        data.append('file', f, f.name);
        data.append('alt', alt.input.value.trim());
        upload.disabled = true;
        status.textContent = `Uploading ${f.name}…`;
        try {
          const res = await fetch(host.dataset.uploadUrl, {
            method: 'POST',
            body: data,
            credentials: 'same-origin',
            headers: { Accept: 'application/json' },
          });
          if (!res.ok) {
            error.textContent = await problemDetail(res);
            status.textContent = '';
            return;
          }
          status.textContent = '';
          uploadForm.reset();
          insert(await res.json());
        } catch {
          error.textContent = 'Upload failed: network error.';
          status.textContent = '';
        } finally {
          upload.disabled = false;
        }
      },
    },
    h('fieldset', {}, h('legend', {}, 'Upload a new image'), file.el, alt.el, upload),
  );
  dialog.append(
    h('search', {}, search.el),
    status,
    list,
    uploadForm,
    error,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')),
  );
  return () => {
    error.textContent = '';
    dialog.showModal();
    search.input.focus();
    find(search.input.value);
  };
}

function productDialog(editor, host) {
  const dialog = makeDialog('Insert product link', editor);
  const search = field('Search products', { type: 'search', autocomplete: 'off' });
  const list = h('ul', { class: 'product-list', 'aria-label': 'Products' });
  const status = h('p', { class: 'muted', 'aria-live': 'polite' });

  const insert = (item) => {
    const href = item.url;
    const chain = editor.chain().focus();
    if (editor.state.selection.empty) {
      chain.insertContent({ type: 'text', text: item.title, marks: [{ type: 'link', attrs: { href } }] }).run();
    } else {
      chain.setLink({ href }).run();
    }
    dialog.close();
  };
  const render = (items) => {
    list.replaceChildren(
      ...items.map((item) =>
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', class: 'secondary', 'aria-label': `Insert product: ${item.title}`, onclick: () => insert(item) },
            item.title,
            item.code ? h('span', { class: 'muted' }, ` ${item.code}`) : null,
          ),
        ),
      ),
    );
    status.textContent = items.length ? `${items.length} products` : 'No products found.';
  };
  const find = searcher(host.dataset.productsUrl, render, (msg) => (status.textContent = msg));
  const findSoon = debounce(find, 250);
  search.input.addEventListener('input', () => findSoon(search.input.value));
  dialog.append(
    h('search', {}, search.el),
    status,
    list,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel')),
  );
  return () => {
    dialog.showModal();
    search.input.focus();
    find(search.input.value);
  };
}

// Arrow keys move between toolbar buttons and Tab leaves the toolbar, the
// usual pattern for role=toolbar: one tab stop instead of twelve.
function rovingFocus(toolbar) {
  const buttons = () => Array.from(toolbar.querySelectorAll('button'));
  const focusAt = (i) => {
    const all = buttons();
    const target = all[(i + all.length) % all.length];
    for (const b of all) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  };
  toolbar.addEventListener('keydown', (e) => {
    const i = buttons().indexOf(document.activeElement);
    if (i < 0) return;
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: -1 };
    if (!(e.key in moves)) return;
    e.preventDefault();
    focusAt(moves[e.key]);
  });
  toolbar.addEventListener('focusin', (e) => {
    if (e.target.tagName === 'BUTTON') for (const b of buttons()) b.tabIndex = b === e.target ? 0 : -1;
  });
  buttons().forEach((b, i) => (b.tabIndex = i === 0 ? 0 : -1));
}

function setup(host) {
  const textarea = document.getElementById(host.dataset.editor);
  if (!textarea) return;
  const label = document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  if (label && !label.id) label.id = `${textarea.id}-label`;
  const labelId = label ? label.id : null;

  const editor = new Editor({
    element: host,
    content: textarea.value,
    injectCSS: false, // the CSP forbids injected <style>; admin.css has the rules
    extensions: [
      StarterKit.configure({
        heading: { levels: [2, 3, 4] },
        // Only what the toolbar offers and the server keeps.
        code: false,
        codeBlock: false,
        strike: false,
        underline: false,
        horizontalRule: false,
        link: {
          openOnClick: false,
          autolink: true,
          defaultProtocol: 'https',
          protocols: ['http', 'https', 'mailto', { scheme: 'tel', optionalSlashes: true }],
          isAllowedUri: (url) => /^(https?:|mailto:|tel:)/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url),
          // The server's sanitizer decides rel; don't bake target/rel in.
          HTMLAttributes: { target: null, rel: null, class: null },
        },
      }),
      Image.configure({ inline: false, allowBase64: false }),
    ],
    editorProps: {
      attributes: {
        role: 'textbox',
        'aria-multiline': 'true',
        ...(labelId ? { 'aria-labelledby': labelId } : { 'aria-label': 'Body' }),
        class: 'prose',
      },
      transformPastedHTML: cleanPastedHTML,
    },
  });
  textarea.hidden = true;

  // The label points at the hidden textarea; send its clicks to the editor.
  label?.addEventListener('click', (e) => {
    e.preventDefault();
    editor.commands.focus();
  });

  // Serialising a long article costs milliseconds, so never per keystroke:
  // once typing pauses, and synchronously whenever a request is about to
  // read the textarea.
  // The editor keeps an empty paragraph after a trailing image or list so
  // that the caret has somewhere to go; the article should not end in one.
  const sync = () => {
    syncSoon.cancel();
    textarea.value = editor.getHTML().replace(/(<p><\/p>)+$/, '');
  };
  const syncSoon = debounce(() => {
    sync();
    // Autosave listens for input events on the form.
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
  }, 300);
  editor.on('update', syncSoon);
  const form = textarea.form;
  if (form) {
    form.addEventListener('submit', sync);
    form.addEventListener('cms:sync', sync);
  }
  document.addEventListener('htmx:configRequest', (e) => {
    sync();
    // htmx has already collected the parameters by now; patch the copy.
    const params = e.detail && e.detail.parameters;
    if (params && textarea.name && params.has && params.has(textarea.name)) params.set(textarea.name, textarea.value);
  });

  // Toolbar.
  const openLink = linkDialog(editor);
  const openImage = imageDialog(editor, host);
  const openProduct = productDialog(editor, host);
  const run = (fn) => () => fn(editor.chain().focus()).run();
  const tools = [
    { text: 'H2', label: 'Heading 2', act: run((c) => c.toggleHeading({ level: 2 })), on: () => editor.isActive('heading', { level: 2 }) },
    { text: 'H3', label: 'Heading 3', act: run((c) => c.toggleHeading({ level: 3 })), on: () => editor.isActive('heading', { level: 3 }) },
    { text: 'B', label: 'Bold', act: run((c) => c.toggleBold()), on: () => editor.isActive('bold'), cls: 'tb-bold' },
    { text: 'I', label: 'Italic', act: run((c) => c.toggleItalic()), on: () => editor.isActive('italic'), cls: 'tb-italic' },
    { text: 'Link', label: 'Link', act: openLink, on: () => editor.isActive('link') },
    { text: '1.', label: 'Numbered list', act: run((c) => c.toggleOrderedList()), on: () => editor.isActive('orderedList') },
    { text: '•', label: 'Bullet list', act: run((c) => c.toggleBulletList()), on: () => editor.isActive('bulletList') },
    { text: '“', label: 'Quote', act: run((c) => c.toggleBlockquote()), on: () => editor.isActive('blockquote') },
    { text: 'Image', label: 'Image', act: openImage },
    { text: 'Product', label: 'Product', act: openProduct },
    { text: '↶', label: 'Undo', act: run((c) => c.undo()), can: () => editor.can().undo() },
    { text: '↷', label: 'Redo', act: run((c) => c.redo()), can: () => editor.can().redo() },
  ];
  const toolbar = h('div', { role: 'toolbar', 'aria-label': 'Formatting', 'aria-controls': host.id || null, class: 'editor-toolbar' });
  for (const t of tools) {
    // Short visible text with the full name beside it for screen readers,
    // rather than aria-label: an aria-label that doesn't contain the visible
    // text ("H2" vs "Heading 2") fails WCAG 2.5.3, label in name.
    const content =
      t.text === t.label ? [t.text] : [h('span', { 'aria-hidden': 'true' }, t.text), h('span', { class: 'visually-hidden' }, t.label)];
    t.button = h(
      'button',
      {
        type: 'button',
        class: t.cls || null,
        title: t.label,
        'aria-pressed': t.on ? 'false' : null,
        onclick: t.act,
        // Keep the editor's selection when a button is clicked with the mouse.
        onmousedown: (e) => e.preventDefault(),
      },
      ...content,
    );
    toolbar.append(t.button);
  }
  host.before(toolbar);
  host.classList.add('editor-host');
  rovingFocus(toolbar);

  // Button state follows the selection; once per frame is plenty.
  let frame = 0;
  const refresh = () => {
    frame = 0;
    for (const t of tools) {
      if (t.on) t.button.setAttribute('aria-pressed', String(t.on()));
      // aria-disabled rather than disabled keeps the button focusable in the toolbar.
      if (t.can) t.button.setAttribute('aria-disabled', String(!t.can()));
    }
  };
  editor.on('transaction', () => (frame ||= requestAnimationFrame(refresh)));
  refresh();

  window.cmsEditor = editor; // for the browser tests and for debugging
}

for (const host of document.querySelectorAll('[data-editor]')) setup(host);

// Tiny DOM helpers. Text always goes in as textContent: nothing from the server becomes markup.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function el(tag, text, cls, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, v);
  return node;
}

export function button(text, onClick, attrs) {
  const b = el("button", text, undefined, { type: "button", ...(attrs || {}) });
  b.addEventListener("click", onClick);
  return b;
}

// Rebuild "<mark>x</mark>" as elements; every other character stays text.
export function markedSnippet(snippet) {
  const frag = document.createDocumentFragment();
  let inMark = false;
  for (const part of String(snippet || "").split(/(<mark>|<\/mark>)/)) {
    if (part === "<mark>") { inMark = true; continue; }
    if (part === "</mark>") { inMark = false; continue; }
    frag.appendChild(inMark ? el("mark", part) : document.createTextNode(part));
  }
  return frag;
}

export function utf16Length(text) {
  let n = 0;
  for (const ch of text) n += ch.codePointAt(0) > 0xffff ? 2 : 1;
  return n;
}

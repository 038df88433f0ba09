// katabox console: the few behaviours pages need. No framework; every
// value from the server is set with textContent, never parsed as HTML.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button data-copy="text">.
  for (const b of document.querySelectorAll("button[data-copy]")) {
    b.addEventListener("click", () => {
      const text = b.getAttribute("data-copy");
      const done = () => { b.textContent = "Copied"; };
      // Without a secure context there is no clipboard API: select the
      // URL next to the button so that Ctrl+C copies it.
      const select = () => {
        const code = b.previousElementSibling;
        if (!code) return;
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, select);
      } else {
        select();
      }
    });
  }

  // Forms that ask first: <form data-confirm="question">.
  for (const f of document.querySelectorAll("form[data-confirm]")) {
    f.addEventListener("submit", (e) => {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  }

  // Live tail: <tbody id="tail" data-src="/console/runs/tail?...">.
  const tail = document.getElementById("tail");
  if (tail && window.EventSource) {
    const status = document.getElementById("tail-status");
    const source = new EventSource(tail.getAttribute("data-src"));
    source.addEventListener("open", () => { if (status) status.textContent = "live"; });
    source.addEventListener("error", () => { if (status) status.textContent = "reconnecting"; });
    source.addEventListener("run", (e) => {
      let run;
      try { run = JSON.parse(e.data); } catch (_) { return; }
      const tr = document.createElement("tr");
      tr.className = "new";
      tr.setAttribute("data-run", String(run.id));
      const cells = [run.id, run.time, run.trigger, run.automation, run.listener, run.exit, run.status, run.duration];
      cells.forEach((value, i) => {
        const td = document.createElement("td");
        if (i === 0) {
          const a = document.createElement("a");
          a.href = "/console/runs/" + encodeURIComponent(String(run.id));
          a.textContent = "#" + String(value);
          td.appendChild(a);
        } else if (i === 5) {
          const badge = document.createElement("span");
          badge.className = value === "error" ? "badge bad" : value === "return" ? "badge ok" : "badge";
          badge.textContent = value ? String(value) : "none";
          td.appendChild(badge);
        } else {
          td.textContent = value === null || value === undefined ? "" : String(value);
        }
        tr.appendChild(td);
      });
      tail.insertBefore(tr, tail.firstChild);
      const empty = document.getElementById("tail-empty");
      if (empty) empty.remove();
    });
  }
});

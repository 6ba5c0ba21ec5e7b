// Day calendar: drag a session onto an empty cell to move it (its time, and its practitioner's
// or room's column). Closed cells are no drop targets. A static script, as the content
// security policy allows no inline code. The server decides: a refused move answers the session
// panel with the reason (400/409), shown in #session-panel, and the grid is left as it was; a
// done move refreshes the grid. Keyboard users move a session with the panel's Move form.
(function () {
  "use strict";

  let dragged = null; // the session cell being dragged

  function csrfToken() {
    try {
      const headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (error) {
      // fall back to the cookie
    }
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function here() {
    return window.location.pathname + window.location.search;
  }

  function dropTarget(event) {
    const cell = event.target.closest ? event.target.closest("td.calendar-free[data-time]") : null;
    return dragged && cell ? cell : null;
  }

  function showPanel(html) {
    const panel = document.getElementById("session-panel");
    if (!panel) return;
    panel.innerHTML = html;
    if (window.htmx) window.htmx.process(panel);
  }

  async function refreshGrid() {
    const response = await fetch(here(), { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) {
      window.location.reload();
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById("calendar-grid");
    const grid = document.getElementById("calendar-grid");
    if (!fresh || !grid) {
      window.location.reload();
      return;
    }
    grid.replaceWith(fresh);
    if (window.htmx) window.htmx.process(fresh);
  }

  async function move(session, cell) {
    const body = new FormData();
    body.append("day", cell.dataset.day);
    body.append("time", cell.dataset.time);
    body.append("practitioner", cell.dataset.practitioner || "");
    // By room, the column is the room: the move asks for it, and the server judges it.
    if (cell.dataset.room) body.append("room", cell.dataset.room);
    body.append("next", here());
    const grid = document.getElementById("calendar-grid");
    if (grid) grid.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(session.dataset.moveUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true", "HX-Target": "session-panel" },
      });
      const text = await response.text();
      if (response.ok) {
        showPanel(text);
        await refreshGrid();
      } else if (response.status === 400 || response.status === 409) {
        showPanel(text); // the reason, where the session's actions are
      } else {
        showPanel('<div class="alert alert-danger" role="alert">The session could not be moved (error ' +
          response.status + "). Refresh the page and try again.</div>");
      }
    } catch (error) {
      showPanel('<div class="alert alert-danger" role="alert">The clinic could not be reached: the session was not moved.</div>');
    } finally {
      const current = document.getElementById("calendar-grid");
      if (current) current.removeAttribute("aria-busy");
    }
  }

  // The panel's own forms (check in, move, cancel) post with htmx: once one is done, the grid
  // shows it. A refused one (400/409) changed nothing.
  document.addEventListener("htmx:afterRequest", (event) => {
    const source = event.detail.elt;
    const panel = document.getElementById("session-panel");
    const verb = (event.detail.requestConfig && event.detail.requestConfig.verb) || "";
    if (!panel || !source || (!panel.contains(source) && !source.closest("#session-card"))) return;
    if (verb.toLowerCase() !== "post" || !event.detail.successful) return;
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 200 && status < 300) refreshGrid();
  });

  document.addEventListener("dragstart", (event) => {
    const session = event.target.closest ? event.target.closest("td[data-move-url]") : null;
    if (!session) return;
    dragged = session;
    session.classList.add("calendar-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", session.dataset.session || "");
  });

  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("calendar-dragging");
    document.querySelectorAll(".calendar-drop-over").forEach((cell) => cell.classList.remove("calendar-drop-over"));
    dragged = null;
  });

  document.addEventListener("dragover", (event) => {
    const cell = dropTarget(event);
    if (!cell) return;
    event.preventDefault(); // allows the drop
    event.dataTransfer.dropEffect = "move";
  });

  document.addEventListener("dragenter", (event) => {
    const cell = dropTarget(event);
    if (cell) cell.classList.add("calendar-drop-over");
  });

  document.addEventListener("dragleave", (event) => {
    const cell = dropTarget(event);
    if (cell && !cell.contains(event.relatedTarget)) cell.classList.remove("calendar-drop-over");
  });

  document.addEventListener("drop", (event) => {
    const cell = dropTarget(event);
    if (!cell) return;
    event.preventDefault();
    const session = dragged;
    cell.classList.remove("calendar-drop-over");
    move(session, cell);
  });
})();

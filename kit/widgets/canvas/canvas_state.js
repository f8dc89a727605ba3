// The pipeline canvas, part 2 of 6: intents sent, selection, the message banner, geometry, mode.

function installState(c) {
  const { model, el, stage, toolbar, banner, bannerText, bannerClose, viewport, edges, nodes, dragged } = c;

  function send(content) {
    c.localMessage = "";
    showMessage();
    model.send(content);
  }

  function editing() {
    return model.get("mode") !== "run";
  }

  function taskIntent(intent) {
    const task = model.get("selected");
    if (task && c.byId.has(task)) send({ intent, task });
  }

  function select(task) {
    selectEdge(null);
    if (model.get("selected") !== task) {
      // Shown at once; Python echoes the same value back when it gets the intent.
      model.set("selected", task);
      outlineSelection();
      send({ intent: "select", task });
    }
  }

  function selectEdge(key) {
    c.selectedEdge = key && edges.has(key) ? key : null;
    for (const [k, e] of edges) {
      const on = k === c.selectedEdge;
      if (on !== e.g.classList.contains("kit-selected")) {
        e.g.classList.toggle("kit-selected", on);
        e.remove.style.display = on ? "" : "none";
        if (on) c.placeRemove(e);
      }
    }
  }

  function deleteSelection() {
    if (!editing()) return;
    if (c.selectedEdge) {
      const e = edges.get(c.selectedEdge).data;
      send({ intent: "remove_link", source: e.source, target: e.target });
      return;
    }
    taskIntent("delete");
  }

  function refuse(text) {
    c.localMessage = text;
    showMessage();
  }

  function showMessage() {
    const text = c.localMessage || model.get("message") || "";
    bannerText.textContent = text;
    banner.hidden = !text;
  }

  bannerClose.addEventListener("click", () => {
    c.localMessage = "";
    banner.hidden = true;
  });

  // ---- geometry ------------------------------------------------------------------------
  function position(id) {
    return dragged.get(id) || c.byId.get(id);
  }

  function toGraph(clientX, clientY) {
    const matrix = viewport.getScreenCTM();
    if (!matrix) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: p.x - MARGIN, y: p.y - MARGIN };
  }

  function applyView() {
    const view = c.view;
    viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.k.toFixed(4)})`);
  }

  function fit(force) {
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    if (!width || !height) return false;
    const gw = (c.graph.width || 0) + 2 * MARGIN;
    const gh = (c.graph.height || 0) + 2 * MARGIN;
    const k = Math.max(0.1, Math.min(1, width / gw, height / gh));
    if (!force && k === 1) {
      c.view = { x: 0, y: 0, k: 1 };
    } else {
      c.view = { x: (width - gw * k) / 2, y: Math.max(0, (height - gh * k) / 2), k };
    }
    applyView();
    return true;
  }

  function edgeRoute(e) {
    const a = position(e.source);
    const b = position(e.target);
    if (!a || !b) return "";
    if (e.points && e.points.length > 1 && !dragged.has(e.source) && !dragged.has(e.target)) {
      const [first, ...rest] = e.points.map(([x, y]) => `${(x + MARGIN).toFixed(1)},${(y + MARGIN).toFixed(1)}`);
      if (rest.length % 3 === 0) {
        let d = `M${first}`;
        for (let i = 0; i < rest.length; i += 3) d += ` C${rest[i]} ${rest[i + 1]} ${rest[i + 2]}`;
        return d;
      }
      return `M${first} L${rest.join(" L")}`;
    }
    return curve(a.x + a.w / 2, a.y, b.x - b.w / 2, b.y);
  }

  // ---- what the model says: selection, mode, undo, height -------------------------------
  function outlineSelection() {
    const selected = model.get("selected");
    for (const [id, entry] of nodes) entry.g.classList.toggle("kit-selected", id === selected);
    const has = Boolean(selected && c.byId.has(selected));
    for (const b of toolbar.querySelectorAll(".kit-canvas-rename-task, .kit-canvas-duplicate")) b.disabled = !has;
    toolbar.querySelector(".kit-canvas-delete").disabled = !has && !c.selectedEdge;
  }

  function applyMode() {
    const run = !editing();
    el.classList.toggle("kit-mode-run", run);
    el.classList.toggle("kit-mode-edit", !run);
    for (const b of c.editButtons) b.hidden = run;
    if (run) {
      selectEdge(null);
      c.cancelRename();
      c.closeMenu();
    }
    applyUndo();
  }

  function applyUndo() {
    toolbar.querySelector(".kit-canvas-undo").disabled = !model.get("can_undo");
    toolbar.querySelector(".kit-canvas-redo").disabled = !model.get("can_redo");
  }

  function applyHeight() {
    stage.style.height = model.get("height") || "520px";
  }

  Object.assign(c, {
    send, editing, taskIntent, select, selectEdge, deleteSelection, refuse, showMessage,
    position, toGraph, applyView, fit, edgeRoute, outlineSelection, applyMode, applyUndo,
    applyHeight,
  });
}

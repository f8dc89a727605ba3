// The pipeline canvas (kit/widgets/canvas): an SVG view of the task graph.
//
// It draws what Python sends in `graph` and never changes the pipeline itself: every edit is
// sent back as an intent (model.send({intent, ...})) and shows once Python sends a new graph.
// Only view state lives here: zoom and pan, the selected link, a node being dragged.
// Plain ES module, no dependency, nothing fetched.

const SVG_NS = "http://www.w3.org/2000/svg";
const MARGIN = 24; // around the drawing, in graph points
const DRAG_THRESHOLD = 4; // px a pointer moves before a press becomes a drag
const BUILTIN_KINDS = ["notebook", "python", "bash"];

function svg(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function edgeKey(source, target) {
  return `${source}->${target}`;
}

function clip(text, max) {
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}

// A path from `from` to `to` over the links, or null: adding to -> from would close it.
function findPath(edges, from, to) {
  const next = new Map();
  for (const e of edges) {
    if (!next.has(e.source)) next.set(e.source, []);
    next.get(e.source).push(e.target);
  }
  const previous = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const here = queue.shift();
    if (here === to) {
      const path = [];
      for (let at = to; at !== null; at = previous.get(at)) path.unshift(at);
      return path;
    }
    for (const there of next.get(here) || []) {
      if (!previous.has(there)) {
        previous.set(there, here);
        queue.push(there);
      }
    }
  }
  return null;
}

function render({ model, el }) {
  el.classList.add("kit-canvas");
  // JupyterLab must not take the canvas's keys (Delete, Ctrl+Z) as notebook shortcuts.
  el.setAttribute("data-lm-suppress-shortcuts", "true");

  const toolbar = html("div", { class: "kit-canvas-toolbar", role: "toolbar", "aria-label": "pipeline canvas tools" }, el);
  const banner = html("div", { class: "kit-canvas-message", role: "alert", hidden: "" }, el);
  const bannerText = html("span", {}, banner);
  const bannerClose = html("button", { class: "kit-canvas-message-close", "aria-label": "dismiss message", title: "Dismiss" }, banner, "×");
  const stage = html("div", { class: "kit-canvas-stage", tabindex: "0", "aria-label": "pipeline graph" }, el);
  const root = svg("svg", { class: "kit-canvas-svg", role: "group", "aria-label": "task graph" }, stage);
  const defs = svg("defs", {}, root);
  const marker = svg("marker", {
    id: `kit-arrow-${Math.random().toString(36).slice(2)}`,
    viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "8", markerHeight: "8",
    markerUnits: "userSpaceOnUse", // the same arrowhead on a selected (thicker) link
    orient: "auto-start-reverse",
  }, defs);
  svg("path", { d: "M0,0 L10,5 L0,10 z", class: "kit-arrowhead" }, marker);
  const background = svg("rect", { class: "kit-canvas-background", x: "-50000", y: "-50000", width: "100000", height: "100000" }, root);
  const viewport = svg("g", { class: "kit-canvas-viewport" }, root);
  const edgeLayer = svg("g", { class: "kit-edges" }, viewport);
  const nodeLayer = svg("g", { class: "kit-nodes" }, viewport);
  const ghost = svg("path", { class: "kit-ghost-link", d: "", "marker-end": `url(#${marker.id})` }, viewport);
  const renameBox = html("input", { class: "kit-canvas-rename", type: "text", "aria-label": "new task id", hidden: "" }, stage);
  const menu = html("div", { class: "kit-canvas-menu", role: "menu", hidden: "" }, stage);

  const nodes = new Map(); // id -> {g, body, stack, label, kind, title, badge, handle, data, look}
  const edges = new Map(); // key -> {g, path, hit, title, remove, data, route}
  const dragged = new Map(); // id -> {x, y}: where a node was dropped, until the next graph
  let graph = { nodes: [], edges: [] };
  let byId = new Map();
  let selectedEdge = null;
  let localMessage = "";
  let view = { x: 0, y: 0, k: 1 };
  let fitted = false;
  let gesture = null; // the pointer gesture under way
  let disposed = false;

  // ---- toolbar -------------------------------------------------------------------------
  function button(label, cls, aria, onClick) {
    const b = html("button", { class: `kit-canvas-button ${cls}`, type: "button", "aria-label": aria, title: aria }, toolbar, label);
    b.addEventListener("click", (event) => {
      event.stopPropagation();
      onClick(b);
      // Keys go on working on the graph (Delete, Ctrl+Z) after a click on a tool.
      if (menu.hidden && renameBox.hidden) stage.focus({ preventScroll: true });
    });
    return b;
  }
  const editButtons = [
    button("Notebook…", "kit-canvas-add-notebook", "add a notebook task", (b) => toggleMenu(b, notebookItems())),
    button("Python…", "kit-canvas-add-python", "add a python task", () => send({ intent: "add_task", kind: "python" })),
    button("Bash…", "kit-canvas-add-bash", "add a bash task", () => send({ intent: "add_task", kind: "bash" })),
    button("Kinds ▾", "kit-canvas-add-kind", "add a task of a registered kind", (b) => toggleMenu(b, kindItems())),
    html("span", { class: "kit-canvas-sep" }, toolbar),
    button("Rename", "kit-canvas-rename-task", "rename the selected task", () => startRename(model.get("selected"))),
    button("Duplicate", "kit-canvas-duplicate", "duplicate the selected task", () => taskIntent("duplicate")),
    button("Delete", "kit-canvas-delete", "delete the selection", () => deleteSelection()),
    html("span", { class: "kit-canvas-sep" }, toolbar),
    button("Undo", "kit-canvas-undo", "undo (Ctrl+Z)", () => send({ intent: "undo" })),
    button("Redo", "kit-canvas-redo", "redo (Ctrl+Shift+Z)", () => send({ intent: "redo" })),
    button("Auto layout", "kit-canvas-auto-layout", "auto layout: forget positions set by hand", () => send({ intent: "auto_layout" })),
  ];
  html("span", { class: "kit-canvas-sep" }, toolbar);
  button("Fit", "kit-canvas-fit", "fit the graph in view", () => fit(true));
  const stats = html("span", { class: "kit-canvas-stats", "aria-live": "off" }, toolbar);

  function notebookItems() {
    const notebooks = (model.get("palette") || {}).notebooks || [];
    if (!notebooks.length) return [{ label: "No notebooks in the project", disabled: true }];
    return notebooks.map((nb) => {
      const params = (nb.parameters || []).map((p) => `${p.name}: ${p.type} = ${p.default}`);
      let detail = params.length ? params.join(", ") : "no parameters";
      if (nb.error) detail = nb.error;
      else if (nb.has_parameters_cell === false) detail = "no parameters cell";
      return {
        label: nb.path, detail, disabled: Boolean(nb.error),
        action: () => send({ intent: "add_task", kind: "notebook", notebook: nb.path }),
      };
    });
  }

  function kindItems() {
    const kinds = ((model.get("palette") || {}).kinds || []).filter((k) => !BUILTIN_KINDS.includes(k));
    if (!kinds.length) return [{ label: "No other kinds registered", disabled: true }];
    return kinds.map((kind) => ({ label: kind, action: () => send({ intent: "add_task", kind }) }));
  }

  function toggleMenu(anchor, items) {
    if (!menu.hidden && menu.dataset.for === anchor.className) return closeMenu();
    menu.replaceChildren();
    menu.dataset.for = anchor.className;
    for (const item of items) {
      const entry = html("button", { class: "kit-canvas-menu-item", type: "button", role: "menuitem" }, menu);
      html("span", { class: "kit-canvas-menu-label" }, entry, item.label);
      if (item.detail) html("span", { class: "kit-canvas-menu-detail" }, entry, item.detail);
      entry.setAttribute("aria-label", item.detail ? `${item.label} (${item.detail})` : item.label);
      if (item.disabled) entry.disabled = true;
      entry.addEventListener("click", (event) => {
        event.stopPropagation();
        closeMenu();
        item.action();
      });
    }
    const a = anchor.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    menu.style.left = `${Math.max(0, a.left - s.left)}px`;
    menu.style.top = "0px";
    menu.hidden = false;
  }

  function closeMenu() {
    menu.hidden = true;
    menu.dataset.for = "";
  }

  // ---- intents -------------------------------------------------------------------------
  function send(content) {
    localMessage = "";
    showMessage();
    model.send(content);
  }

  function editing() {
    return model.get("mode") !== "run";
  }

  function taskIntent(intent) {
    const task = model.get("selected");
    if (task && byId.has(task)) send({ intent, task });
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
    selectedEdge = key && edges.has(key) ? key : null;
    for (const [k, e] of edges) {
      const on = k === selectedEdge;
      if (on !== e.g.classList.contains("kit-selected")) {
        e.g.classList.toggle("kit-selected", on);
        e.remove.style.display = on ? "" : "none";
        if (on) placeRemove(e);
      }
    }
  }

  function deleteSelection() {
    if (!editing()) return;
    if (selectedEdge) {
      const e = edges.get(selectedEdge).data;
      send({ intent: "remove_link", source: e.source, target: e.target });
      return;
    }
    taskIntent("delete");
  }

  function refuse(text) {
    localMessage = text;
    showMessage();
  }

  function showMessage() {
    const text = localMessage || model.get("message") || "";
    bannerText.textContent = text;
    banner.hidden = !text;
  }

  bannerClose.addEventListener("click", () => {
    localMessage = "";
    banner.hidden = true;
  });

  // ---- geometry ------------------------------------------------------------------------
  function position(id) {
    return dragged.get(id) || byId.get(id);
  }

  function toGraph(clientX, clientY) {
    const matrix = viewport.getScreenCTM();
    if (!matrix) return { x: 0, y: 0 };
    const p = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
    return { x: p.x - MARGIN, y: p.y - MARGIN };
  }

  function applyView() {
    viewport.setAttribute("transform", `translate(${view.x.toFixed(1)},${view.y.toFixed(1)}) scale(${view.k.toFixed(4)})`);
  }

  function fit(force) {
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    if (!width || !height) return false;
    const gw = (graph.width || 0) + 2 * MARGIN;
    const gh = (graph.height || 0) + 2 * MARGIN;
    const k = Math.max(0.1, Math.min(1, width / gw, height / gh));
    if (!force && k === 1) {
      view = { x: 0, y: 0, k: 1 };
    } else {
      view = { x: (width - gw * k) / 2, y: Math.max(0, (height - gh * k) / 2), k };
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

  function curve(x1, y1, x2, y2) {
    const bend = Math.max(30, Math.abs(x2 - x1) / 2);
    const p = (x, y) => `${(x + MARGIN).toFixed(1)},${(y + MARGIN).toFixed(1)}`;
    return `M${p(x1, y1)} C${p(x1 + bend, y1)} ${p(x2 - bend, y2)} ${p(x2, y2)}`;
  }

  // ---- drawing (keyed by id: only what changed is touched) -----------------------------
  function makeNode(id) {
    const g = svg("g", { class: "kit-node", "data-task-id": id, role: "button", tabindex: "-1" }, nodeLayer);
    const title = svg("title", {}, g);
    const stack = svg("rect", { class: "kit-node-stack", rx: "6" }, g);
    const body = svg("rect", { class: "kit-node-body", rx: "6" }, g);
    const label = svg("text", { class: "kit-node-label", "text-anchor": "middle" }, g);
    const kind = svg("text", { class: "kit-node-kind", "text-anchor": "middle" }, g);
    const badge = svg("g", { class: "kit-node-badge" }, g);
    const badgeTitle = svg("title", {}, badge);
    svg("circle", { r: "7" }, badge);
    const badgeText = svg("text", { "text-anchor": "middle", y: "3.5" }, badge);
    badgeText.textContent = "✖";
    const handle = svg("circle", { class: "kit-handle", r: "5", "data-handle-for": id }, g);
    svg("title", {}, handle).textContent = `drag to another task to link ${id} to it`;
    handle.setAttribute("aria-label", `link from ${id}`);
    const entry = { g, title, stack, body, label, kind, badge, badgeTitle, handle, look: "", box: "" };
    g.addEventListener("pointerdown", (event) => onNodeDown(event, id, event.target === handle));
    g.addEventListener("dblclick", (event) => {
      event.stopPropagation();
      if (editing()) startRename(id);
    });
    nodes.set(id, entry);
    return entry;
  }

  function updateNode(entry, n) {
    const p = position(n.id);
    const box = `${p.x},${p.y},${n.w},${n.h}`;
    if (box !== entry.box) {
      entry.box = box;
      entry.g.setAttribute("transform", `translate(${(p.x - n.w / 2 + MARGIN).toFixed(1)},${(p.y - n.h / 2 + MARGIN).toFixed(1)})`);
      for (const rect of [entry.body, entry.stack]) {
        rect.setAttribute("width", n.w);
        rect.setAttribute("height", n.h);
      }
      entry.stack.setAttribute("x", "4");
      entry.stack.setAttribute("y", "-4");
      entry.label.setAttribute("x", n.w / 2);
      entry.label.setAttribute("y", n.h / 2 - 2);
      entry.kind.setAttribute("x", n.w / 2);
      entry.kind.setAttribute("y", n.h / 2 + 10);
      entry.badge.setAttribute("transform", `translate(${n.w - 2},2)`);
      entry.handle.setAttribute("cx", n.w);
      entry.handle.setAttribute("cy", n.h / 2);
    }
    const look = JSON.stringify([n.label, n.kind, n.mapped, n.problem, n.state, n.fill, n.stroke]);
    if (look !== entry.look) {
      entry.look = look;
      entry.label.textContent = clip(n.label, 48);
      entry.kind.textContent = n.mapped ? `${n.kind} [ ]` : n.kind;
      entry.stack.style.display = n.mapped ? "" : "none";
      for (const rect of [entry.body, entry.stack]) {
        rect.style.fill = n.fill || "";
        rect.style.stroke = n.stroke || "";
      }
      const state = n.state ? `, ${n.state_label || n.state}` : "";
      entry.title.textContent = `${n.label} (${n.kind}${state})` + (n.problem ? `\n✖ ${n.problem}` : "");
      entry.badge.style.display = n.problem ? "" : "none";
      entry.badgeTitle.textContent = n.problem || "";
      entry.g.classList.toggle("kit-invalid", Boolean(n.problem));
      if (n.problem) entry.g.setAttribute("data-problem", "invalid");
      else entry.g.removeAttribute("data-problem");
      for (const c of [...entry.g.classList]) if (c.startsWith("kit-state-")) entry.g.classList.remove(c);
      if (n.state) {
        entry.g.classList.add(`kit-state-${n.state}`);
        entry.g.setAttribute("data-state", n.state);
      } else {
        entry.g.removeAttribute("data-state");
      }
      entry.g.setAttribute("aria-label", `task ${n.label} (${n.kind})${state}` + (n.problem ? `, invalid: ${n.problem}` : ""));
    }
  }

  function makeEdge(e) {
    const key = edgeKey(e.source, e.target);
    const g = svg("g", {
      class: "kit-edge", "data-edge": key, "data-source": e.source, "data-target": e.target,
      role: "button", "aria-label": `link ${e.source} → ${e.target}`,
    }, edgeLayer);
    svg("title", {}, g).textContent = `${e.source} → ${e.target}`;
    const hit = svg("path", { class: "kit-edge-hit" }, g);
    const path = svg("path", { class: "kit-edge-line", "marker-end": `url(#${marker.id})` }, g);
    const remove = svg("g", { class: "kit-edge-remove", role: "button", "aria-label": `remove link ${e.source} → ${e.target}` }, g);
    svg("circle", { r: "8" }, remove);
    svg("text", { "text-anchor": "middle", y: "4" }, remove).textContent = "×";
    remove.style.display = "none";
    g.addEventListener("pointerdown", (event) => event.stopPropagation());
    g.addEventListener("click", (event) => {
      event.stopPropagation();
      stage.focus({ preventScroll: true });
      if (!editing()) return;
      if (event.target.closest(".kit-edge-remove")) {
        send({ intent: "remove_link", source: e.source, target: e.target });
        return;
      }
      if (model.get("selected")) select("");
      selectEdge(key);
    });
    const entry = { g, path, hit, remove, route: "", data: e };
    edges.set(key, entry);
    return entry;
  }

  function updateEdge(entry, e) {
    entry.data = e;
    const d = edgeRoute(e);
    if (d === entry.route) return;
    entry.route = d;
    entry.path.setAttribute("d", d);
    entry.hit.setAttribute("d", d);
    if (entry.g.classList.contains("kit-selected")) placeRemove(entry);
  }

  // The × sits mid-curve; measured only for the selected link (measuring every path of a large
  // graph would make the browser lay each one out during a redraw).
  function placeRemove(entry) {
    const length = entry.path.getTotalLength ? entry.path.getTotalLength() : 0;
    if (!length) return;
    const mid = entry.path.getPointAtLength(length / 2);
    entry.remove.setAttribute("transform", `translate(${mid.x.toFixed(1)},${mid.y.toFixed(1)})`);
  }

  function redraw() {
    const started = performance.now();
    graph = model.get("graph") || {};
    graph.nodes = graph.nodes || [];
    graph.edges = graph.edges || [];
    const before = byId;
    byId = new Map(graph.nodes.map((n) => [n.id, n]));
    // A different pipeline altogether (nothing in common with the last one): fit it in view.
    if (fitted && before.size && ![...byId.keys()].some((id) => before.has(id))) fitted = false;
    dragged.clear(); // the new graph says where everything is
    for (const [id, entry] of nodes) {
      if (!byId.has(id)) {
        entry.g.remove();
        nodes.delete(id);
      }
    }
    for (const n of graph.nodes) updateNode(nodes.get(n.id) || makeNode(n.id), n);
    const keys = new Set(graph.edges.map((e) => edgeKey(e.source, e.target)));
    for (const [key, entry] of edges) {
      if (!keys.has(key)) {
        entry.g.remove();
        edges.delete(key);
      }
    }
    for (const e of graph.edges) {
      const key = edgeKey(e.source, e.target);
      updateEdge(edges.get(key) || makeEdge(e), e);
    }
    selectEdge(selectedEdge);
    outlineSelection();
    stage.getBoundingClientRect(); // include the browser's style and layout work in the figure
    const ms = performance.now() - started;
    stats.textContent = `${graph.nodes.length} tasks · drawn in ${ms.toFixed(1)} ms`;
    if (!fitted) fitted = fit(false);
    model.set("last_redraw_ms", ms);
    model.set("redraws", (model.get("redraws") || 0) + 1);
    model.save_changes();
  }

  function moveNodeLive(id) {
    const n = byId.get(id);
    updateNode(nodes.get(id), n);
    for (const [, entry] of edges) {
      if (entry.data.source === id || entry.data.target === id) updateEdge(entry, entry.data);
    }
  }

  function outlineSelection() {
    const selected = model.get("selected");
    for (const [id, entry] of nodes) entry.g.classList.toggle("kit-selected", id === selected);
    const has = Boolean(selected && byId.has(selected));
    for (const b of toolbar.querySelectorAll(".kit-canvas-rename-task, .kit-canvas-duplicate")) b.disabled = !has;
    toolbar.querySelector(".kit-canvas-delete").disabled = !has && !selectedEdge;
  }

  function applyMode() {
    const run = !editing();
    el.classList.toggle("kit-mode-run", run);
    el.classList.toggle("kit-mode-edit", !run);
    for (const b of editButtons) b.hidden = run;
    if (run) {
      selectEdge(null);
      cancelRename();
      closeMenu();
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

  // ---- gestures ------------------------------------------------------------------------
  function onNodeDown(event, id, onHandle) {
    if (event.button !== 0) return;
    event.stopPropagation();
    event.preventDefault();
    stage.focus({ preventScroll: true });
    closeMenu();
    const start = toGraph(event.clientX, event.clientY);
    if (onHandle && editing()) {
      gesture = { type: "link", source: id, startX: event.clientX, startY: event.clientY };
    } else {
      const n = position(id);
      gesture = { type: "node", id, startX: event.clientX, startY: event.clientY, dx: n.x - start.x, dy: n.y - start.y, moved: false };
    }
    listen();
  }

  function onBackgroundDown(event) {
    if (event.button !== 0 || gesture) return;
    stage.focus({ preventScroll: true });
    closeMenu();
    gesture = { type: "pan", startX: event.clientX, startY: event.clientY, x: view.x, y: view.y, moved: false };
    listen();
  }

  function listen() {
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
    window.addEventListener("pointercancel", onCancel);
  }

  function unlisten() {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    window.removeEventListener("pointercancel", onCancel);
  }

  function taskAt(clientX, clientY) {
    const hit = document.elementFromPoint(clientX, clientY);
    const g = hit && hit.closest ? hit.closest(".kit-node[data-task-id]") : null;
    return g && nodeLayer.contains(g) ? g.getAttribute("data-task-id") : null;
  }

  function onMove(event) {
    if (!gesture) return;
    const far = Math.hypot(event.clientX - gesture.startX, event.clientY - gesture.startY) > DRAG_THRESHOLD;
    if (gesture.type === "pan") {
      if (far) gesture.moved = true;
      if (!gesture.moved) return;
      view.x = gesture.x + event.clientX - gesture.startX;
      view.y = gesture.y + event.clientY - gesture.startY;
      applyView();
    } else if (gesture.type === "node") {
      if (far && editing()) gesture.moved = true;
      if (!gesture.moved) return;
      const p = toGraph(event.clientX, event.clientY);
      const n = byId.get(gesture.id);
      dragged.set(gesture.id, { ...n, x: p.x + gesture.dx, y: p.y + gesture.dy });
      el.classList.add("kit-dragging");
      moveNodeLive(gesture.id);
    } else if (gesture.type === "link") {
      const a = position(gesture.source);
      const p = toGraph(event.clientX, event.clientY);
      ghost.setAttribute("d", curve(a.x + a.w / 2, a.y, p.x, p.y));
      const target = taskAt(event.clientX, event.clientY);
      for (const [id, entry] of nodes) entry.g.classList.toggle("kit-link-target", id === target && id !== gesture.source);
    }
  }

  function onUp(event) {
    const g = gesture;
    onCancel();
    if (!g) return;
    if (g.type === "pan") {
      if (!g.moved) {
        selectEdge(null);
        if (model.get("selected")) select("");
        outlineSelection();
      }
    } else if (g.type === "node") {
      if (g.moved) {
        const p = dragged.get(g.id);
        send({ intent: "move", task: g.id, x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
      } else if (editing()) {
        select(g.id);
      } else {
        select(g.id);
        send({ intent: "open_log", task: g.id });
      }
    } else if (g.type === "link") {
      const target = taskAt(event.clientX, event.clientY);
      if (!target || target === g.source) return;
      if (edges.has(edgeKey(g.source, target))) {
        refuse(`${g.source} → ${target} is already linked`);
        return;
      }
      const back = findPath(graph.edges, target, g.source);
      if (back) {
        refuse(`link ${g.source} → ${target} would make a cycle ${[g.source, ...back].join(" → ")}`);
        return;
      }
      send({ intent: "add_link", source: g.source, target });
    }
  }

  function onCancel() {
    unlisten();
    gesture = null;
    ghost.setAttribute("d", "");
    el.classList.remove("kit-dragging");
    for (const [, entry] of nodes) entry.g.classList.remove("kit-link-target");
  }

  function onWheel(event) {
    event.preventDefault();
    const rect = root.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
    const k = Math.min(4, Math.max(0.1, view.k * factor));
    // Zoom around the pointer: the point under it stays put.
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    applyView();
  }

  // ---- rename --------------------------------------------------------------------------
  function startRename(id) {
    if (!id || !nodes.has(id) || !editing()) return;
    const box = nodes.get(id).body.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    renameBox.dataset.task = id;
    renameBox.value = id;
    renameBox.style.left = `${box.left - s.left}px`;
    renameBox.style.top = `${box.top - s.top}px`;
    renameBox.style.width = `${Math.max(120, box.width)}px`;
    renameBox.hidden = false;
    renameBox.focus();
    renameBox.select();
  }

  function cancelRename() {
    renameBox.hidden = true;
    renameBox.dataset.task = "";
  }

  renameBox.addEventListener("keydown", (event) => {
    event.stopPropagation(); // typing a name is not a canvas shortcut
    if (event.key === "Enter") {
      const task = renameBox.dataset.task;
      const value = renameBox.value.trim();
      cancelRename();
      stage.focus({ preventScroll: true });
      if (task && value && value !== task) send({ intent: "rename", task, new_id: value });
    } else if (event.key === "Escape") {
      cancelRename();
      stage.focus({ preventScroll: true });
    }
  });
  renameBox.addEventListener("blur", cancelRename);
  renameBox.addEventListener("pointerdown", (event) => event.stopPropagation());

  // ---- keys ----------------------------------------------------------------------------
  function onKey(event) {
    if (event.target === renameBox || event.target.closest(".kit-canvas-menu")) return;
    const mod = event.ctrlKey || event.metaKey;
    let handled = true;
    if (mod && event.key.toLowerCase() === "z" && editing()) {
      if (event.shiftKey) {
        if (model.get("can_redo")) send({ intent: "redo" });
      } else if (model.get("can_undo")) {
        send({ intent: "undo" });
      }
    } else if (mod && event.key.toLowerCase() === "y" && editing()) {
      if (model.get("can_redo")) send({ intent: "redo" });
    } else if ((event.key === "Delete" || event.key === "Backspace") && editing()) {
      deleteSelection();
    } else if (event.key === "F2" && editing()) {
      startRename(model.get("selected"));
    } else if (event.key === "Escape") {
      onCancel();
      closeMenu();
      selectEdge(null);
      if (model.get("selected")) select("");
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // ---- wiring --------------------------------------------------------------------------
  background.addEventListener("pointerdown", onBackgroundDown);
  root.addEventListener("wheel", onWheel, { passive: false });
  el.addEventListener("keydown", onKey); // the whole widget: its toolbar's buttons too
  const closeOnOutside = (event) => {
    if (!menu.contains(event.target)) closeMenu();
  };
  document.addEventListener("pointerdown", closeOnOutside);

  const listeners = [
    ["change:graph", redraw],
    ["change:selected", outlineSelection],
    ["change:mode", applyMode],
    ["change:message", showMessage],
    ["change:can_undo", applyUndo],
    ["change:can_redo", applyUndo],
    ["change:height", applyHeight],
  ];
  for (const [name, fn] of listeners) model.on(name, fn);
  applyHeight();
  applyMode();
  showMessage();
  redraw();
  requestAnimationFrame(() => {
    if (!disposed && !fitted) fitted = fit(false);
  });

  return () => {
    disposed = true;
    for (const [name, fn] of listeners) model.off(name, fn);
    unlisten();
    document.removeEventListener("pointerdown", closeOnOutside);
  };
}

export default { render };

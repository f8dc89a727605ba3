// The pipeline canvas, part 5 of 6: pointer gestures (drag, link, pan), the wheel, rename, keys.

function installInput(c) {
  const { model, el, stage, root, ghost, renameBox, nodeLayer, nodes, edges, dragged } = c;

  function onNodeDown(event, id, onHandle) {
    if (event.button !== 0) return;
    event.stopPropagation();
    event.preventDefault();
    stage.focus({ preventScroll: true });
    c.closeMenu();
    const start = c.toGraph(event.clientX, event.clientY);
    if (onHandle && c.editing()) {
      c.gesture = { type: "link", source: id, startX: event.clientX, startY: event.clientY };
    } else {
      const n = c.position(id);
      c.gesture = { type: "node", id, startX: event.clientX, startY: event.clientY, dx: n.x - start.x, dy: n.y - start.y, moved: false };
    }
    listen();
  }

  function onBackgroundDown(event) {
    if (event.button !== 0 || c.gesture) return;
    stage.focus({ preventScroll: true });
    c.closeMenu();
    c.gesture = { type: "pan", startX: event.clientX, startY: event.clientY, x: c.view.x, y: c.view.y, moved: false };
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
    const gesture = c.gesture;
    if (!gesture) return;
    const far = Math.hypot(event.clientX - gesture.startX, event.clientY - gesture.startY) > DRAG_THRESHOLD;
    if (gesture.type === "pan") {
      if (far) gesture.moved = true;
      if (!gesture.moved) return;
      c.view.x = gesture.x + event.clientX - gesture.startX;
      c.view.y = gesture.y + event.clientY - gesture.startY;
      c.applyView();
    } else if (gesture.type === "node") {
      if (far && c.editing()) gesture.moved = true;
      if (!gesture.moved) return;
      const p = c.toGraph(event.clientX, event.clientY);
      const n = c.byId.get(gesture.id);
      dragged.set(gesture.id, { ...n, x: p.x + gesture.dx, y: p.y + gesture.dy });
      el.classList.add("kit-dragging");
      c.moveNodeLive(gesture.id);
    } else if (gesture.type === "link") {
      const a = c.position(gesture.source);
      const p = c.toGraph(event.clientX, event.clientY);
      ghost.setAttribute("d", curve(a.x + a.w / 2, a.y, p.x, p.y));
      const target = taskAt(event.clientX, event.clientY);
      for (const [id, entry] of nodes) entry.g.classList.toggle("kit-link-target", id === target && id !== gesture.source);
    }
  }

  function onUp(event) {
    const g = c.gesture;
    onCancel();
    if (!g) return;
    if (g.type === "pan") {
      if (!g.moved) {
        c.selectEdge(null);
        if (model.get("selected")) c.select("");
        c.outlineSelection();
      }
    } else if (g.type === "node") {
      if (g.moved) {
        const p = dragged.get(g.id);
        c.send({ intent: "move", task: g.id, x: Math.round(p.x * 10) / 10, y: Math.round(p.y * 10) / 10 });
      } else if (c.editing()) {
        c.select(g.id);
      } else {
        c.select(g.id);
        c.send({ intent: "open_log", task: g.id });
      }
    } else if (g.type === "link") {
      const target = taskAt(event.clientX, event.clientY);
      if (!target || target === g.source) return;
      if (edges.has(edgeKey(g.source, target))) {
        c.refuse(`${g.source} → ${target} is already linked`);
        return;
      }
      const back = findPath(c.graph.edges, target, g.source);
      if (back) {
        c.refuse(`link ${g.source} → ${target} would make a cycle ${[g.source, ...back].join(" → ")}`);
        return;
      }
      c.send({ intent: "add_link", source: g.source, target });
    }
  }

  function onCancel() {
    unlisten();
    c.gesture = null;
    ghost.setAttribute("d", "");
    el.classList.remove("kit-dragging");
    for (const [, entry] of nodes) entry.g.classList.remove("kit-link-target");
  }

  function onWheel(event) {
    event.preventDefault();
    const view = c.view;
    const rect = root.getBoundingClientRect();
    const px = event.clientX - rect.left;
    const py = event.clientY - rect.top;
    const factor = Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.0015));
    const k = Math.min(4, Math.max(0.1, view.k * factor));
    // Zoom around the pointer: the point under it stays put.
    view.x = px - ((px - view.x) * k) / view.k;
    view.y = py - ((py - view.y) * k) / view.k;
    view.k = k;
    c.applyView();
  }

  // ---- rename --------------------------------------------------------------------------
  function startRename(id) {
    if (!id || !nodes.has(id) || !c.editing()) return;
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
      if (task && value && value !== task) c.send({ intent: "rename", task, new_id: value });
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
    const editing = c.editing();
    let handled = true;
    if (mod && event.key.toLowerCase() === "z" && editing) {
      if (event.shiftKey) {
        if (model.get("can_redo")) c.send({ intent: "redo" });
      } else if (model.get("can_undo")) {
        c.send({ intent: "undo" });
      }
    } else if (mod && event.key.toLowerCase() === "y" && editing) {
      if (model.get("can_redo")) c.send({ intent: "redo" });
    } else if ((event.key === "Delete" || event.key === "Backspace") && editing) {
      c.deleteSelection();
    } else if (event.key === "F2" && editing) {
      startRename(model.get("selected"));
    } else if (event.key === "Escape") {
      onCancel();
      c.closeMenu();
      c.selectEdge(null);
      if (model.get("selected")) c.select("");
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  Object.assign(c, { onNodeDown, onBackgroundDown, onWheel, onKey, unlisten, startRename, cancelRename });
}

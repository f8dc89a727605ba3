// The pipeline canvas, part 4 of 6: drawing, keyed by id (only what changed is touched).

function installDrawing(c) {
  const { model, stage, groupLayer, nodeLayer, edgeLayer, marker, nodes, edges, dragged } = c;

  // Task groups (a DAG's TaskGroups): nested boxes behind the tasks, outermost first, each with
  // its name; few, so redrawn whole when they change.
  function drawGroups(groups) {
    const look = JSON.stringify(groups);
    if (look === c.groupsDrawn) return;
    c.groupsDrawn = look;
    groupLayer.replaceChildren();
    for (const gr of groups) {
      const g = svg("g", {
        class: "kit-group", "data-group-id": gr.id, "data-depth": String(gr.depth),
        role: "group", "aria-label": `task group ${gr.label}`,
        transform: `translate(${(gr.x - gr.w / 2 + MARGIN).toFixed(1)},${(gr.y - gr.h / 2 + MARGIN).toFixed(1)})`,
      }, groupLayer);
      svg("title", {}, g).textContent = `task group ${gr.id}`;
      svg("rect", { class: "kit-group-box", rx: "8", width: gr.w, height: gr.h }, g);
      svg("text", { class: "kit-group-label", x: "8", y: "13" }, g).textContent = clip(gr.label, 48);
    }
  }

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
    g.addEventListener("pointerdown", (event) => c.onNodeDown(event, id, event.target === handle));
    g.addEventListener("dblclick", (event) => {
      event.stopPropagation();
      if (c.editing()) c.startRename(id);
    });
    nodes.set(id, entry);
    return entry;
  }

  function updateNode(entry, n) {
    const p = c.position(n.id);
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
      for (const cls of [...entry.g.classList]) if (cls.startsWith("kit-state-")) entry.g.classList.remove(cls);
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
      if (!c.editing()) return;
      if (event.target.closest(".kit-edge-remove")) {
        c.send({ intent: "remove_link", source: e.source, target: e.target });
        return;
      }
      if (model.get("selected")) c.select("");
      c.selectEdge(key);
    });
    const entry = { g, path, hit, remove, route: "", data: e };
    edges.set(key, entry);
    return entry;
  }

  function updateEdge(entry, e) {
    entry.data = e;
    const d = c.edgeRoute(e);
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
    const graph = model.get("graph") || {};
    graph.nodes = graph.nodes || [];
    graph.edges = graph.edges || [];
    graph.groups = graph.groups || [];
    c.graph = graph;
    drawGroups(graph.groups);
    const before = c.byId;
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    c.byId = byId;
    // A different pipeline altogether (nothing in common with the last one): fit it in view.
    if (c.fitted && before.size && ![...byId.keys()].some((id) => before.has(id))) c.fitted = false;
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
    c.selectEdge(c.selectedEdge);
    c.outlineSelection();
    stage.getBoundingClientRect(); // include the browser's style and layout work in the figure
    const ms = performance.now() - started;
    c.stats.textContent = `${graph.nodes.length} tasks · drawn in ${ms.toFixed(1)} ms`;
    if (!c.fitted) c.fitted = c.fit(false);
    model.set("last_redraw_ms", ms);
    model.set("redraws", (model.get("redraws") || 0) + 1);
    model.save_changes();
  }

  function moveNodeLive(id) {
    updateNode(nodes.get(id), c.byId.get(id));
    for (const [, entry] of edges) {
      if (entry.data.source === id || entry.data.target === id) updateEdge(entry, entry.data);
    }
  }

  Object.assign(c, { placeRemove, redraw, moveNodeLive });
}

// The pipeline canvas (kit/widgets/canvas), part 1 of 6: constants, DOM helpers, the skeleton.
//
// It draws what Python sends in `graph` and never changes the pipeline itself: every edit is
// sent back as an intent (model.send({intent, ...})) and shows once Python sends a new graph.
// Only view state lives here: zoom and pan, the selected link, a node being dragged.
// Plain JS, no dependency, nothing fetched. Python (widget.py) joins the parts, in the order
// of PARTS, into one ES module; they share one context object, `c`, made by render().

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

// A link drawn between two boxes (no route from dot): a horizontal S-curve.
function curve(x1, y1, x2, y2) {
  const bend = Math.max(30, Math.abs(x2 - x1) / 2);
  const p = (x, y) => `${(x + MARGIN).toFixed(1)},${(y + MARGIN).toFixed(1)}`;
  return `M${p(x1, y1)} C${p(x1 + bend, y1)} ${p(x2 - bend, y2)} ${p(x2, y2)}`;
}

// The widget's elements and its view state: the context every part works on.
function canvasContext(model, el) {
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
  const groupLayer = svg("g", { class: "kit-groups" }, viewport); // task groups, under the rest
  const edgeLayer = svg("g", { class: "kit-edges" }, viewport);
  const nodeLayer = svg("g", { class: "kit-nodes" }, viewport);
  const ghost = svg("path", { class: "kit-ghost-link", d: "", "marker-end": `url(#${marker.id})` }, viewport);
  const renameBox = html("input", { class: "kit-canvas-rename", type: "text", "aria-label": "new task id", hidden: "" }, stage);
  const menu = html("div", { class: "kit-canvas-menu", role: "menu", hidden: "" }, stage);
  return {
    model, el, toolbar, banner, bannerText, bannerClose, stage, root, marker, background,
    viewport, groupLayer, edgeLayer, nodeLayer, ghost, renameBox, menu,
    nodes: new Map(), // id -> {g, body, stack, label, kind, title, badge, handle, look, box}
    edges: new Map(), // key -> {g, path, hit, remove, data, route}
    dragged: new Map(), // id -> {x, y}: where a node was dropped, until the next graph
    graph: { nodes: [], edges: [], groups: [] },
    groupsDrawn: "", // the groups' JSON last drawn: redrawn only when it changes
    byId: new Map(),
    selectedEdge: null,
    localMessage: "",
    view: { x: 0, y: 0, k: 1 },
    fitted: false,
    gesture: null, // the pointer gesture under way
    disposed: false,
    editButtons: [],
    stats: null,
  };
}

// The pipeline canvas, part 3 of 6: the toolbar and its add-task menus.

function installToolbar(c) {
  const { model, toolbar, stage, menu, renameBox } = c;

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

  c.editButtons = [
    button("Notebook…", "kit-canvas-add-notebook", "add a notebook task", (b) => toggleMenu(b, notebookItems())),
    button("Python…", "kit-canvas-add-python", "add a python task", () => c.send({ intent: "add_task", kind: "python" })),
    button("Bash…", "kit-canvas-add-bash", "add a bash task", () => c.send({ intent: "add_task", kind: "bash" })),
    button("Kinds ▾", "kit-canvas-add-kind", "add a task of a registered kind", (b) => toggleMenu(b, kindItems())),
    html("span", { class: "kit-canvas-sep" }, toolbar),
    button("Rename", "kit-canvas-rename-task", "rename the selected task", () => c.startRename(model.get("selected"))),
    button("Duplicate", "kit-canvas-duplicate", "duplicate the selected task", () => c.taskIntent("duplicate")),
    button("Delete", "kit-canvas-delete", "delete the selection", () => c.deleteSelection()),
    html("span", { class: "kit-canvas-sep" }, toolbar),
    button("Undo", "kit-canvas-undo", "undo (Ctrl+Z)", () => c.send({ intent: "undo" })),
    button("Redo", "kit-canvas-redo", "redo (Ctrl+Shift+Z)", () => c.send({ intent: "redo" })),
    button("Auto layout", "kit-canvas-auto-layout", "auto layout: forget positions set by hand", () => c.send({ intent: "auto_layout" })),
  ];
  html("span", { class: "kit-canvas-sep" }, toolbar);
  button("Fit", "kit-canvas-fit", "fit the graph in view", () => c.fit(true));
  c.stats = html("span", { class: "kit-canvas-stats", "aria-live": "off" }, toolbar);

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
        action: () => c.send({ intent: "add_task", kind: "notebook", notebook: nb.path }),
      };
    });
  }

  function kindItems() {
    const kinds = ((model.get("palette") || {}).kinds || []).filter((k) => !BUILTIN_KINDS.includes(k));
    if (!kinds.length) return [{ label: "No other kinds registered", disabled: true }];
    return kinds.map((kind) => ({ label: kind, action: () => c.send({ intent: "add_task", kind }) }));
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

  Object.assign(c, { closeMenu });
}

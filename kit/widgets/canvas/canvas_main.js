// The pipeline canvas, part 6 of 6: render() puts the parts together and follows the model.

function render({ model, el }) {
  const c = canvasContext(model, el);
  installState(c);
  installToolbar(c);
  installDrawing(c);
  installInput(c);

  c.background.addEventListener("pointerdown", c.onBackgroundDown);
  c.root.addEventListener("wheel", c.onWheel, { passive: false });
  el.addEventListener("keydown", c.onKey); // the whole widget: its toolbar's buttons too
  const closeOnOutside = (event) => {
    if (!c.menu.contains(event.target)) c.closeMenu();
  };
  document.addEventListener("pointerdown", closeOnOutside);

  const listeners = [
    ["change:graph", c.redraw],
    ["change:selected", c.outlineSelection],
    ["change:mode", c.applyMode],
    ["change:message", c.showMessage],
    ["change:can_undo", c.applyUndo],
    ["change:can_redo", c.applyUndo],
    ["change:height", c.applyHeight],
  ];
  for (const [name, fn] of listeners) model.on(name, fn);
  c.applyHeight();
  c.applyMode();
  c.showMessage();
  c.redraw();
  requestAnimationFrame(() => {
    if (!c.disposed && !c.fitted) c.fitted = c.fit(false);
  });

  return () => {
    c.disposed = true;
    for (const [name, fn] of listeners) model.off(name, fn);
    c.unlisten();
    document.removeEventListener("pointerdown", closeOnOutside);
  };
}

export default { render };

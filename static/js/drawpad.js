// A drawing pad for mouse, pen and touch: dark ink on white paper, like a digit written on a page.
// Calls onStroke(blob), the pad as a PNG, when a stroke ends.

export function createDrawPad(canvas, { brushInput, clearButton, onStroke }) {
  const context = canvas.getContext("2d");
  let drawing = false;
  let last = null;
  let inked = false;

  const clear = () => {
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    inked = false;
  };

  const position = (event) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  };

  const strokeTo = (point, event) => {
    context.strokeStyle = "#000";
    context.lineCap = "round";
    context.lineJoin = "round";
    // A pen's pressure thins or thickens the line; mouse and touch draw at the brush size.
    const pressure = event.pointerType === "pen" ? 0.5 + event.pressure : 1;
    context.lineWidth = Number(brushInput.value) * pressure;
    context.beginPath();
    context.moveTo(last.x, last.y);
    context.lineTo(point.x, point.y);
    context.stroke();
    last = point;
    inked = true;
  };

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    last = position(event);
    strokeTo({ x: last.x + 0.01, y: last.y + 0.01 }, event); // a tap leaves a dot
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing) strokeTo(position(event), event);
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    if (inked) canvas.toBlob((blob) => onStroke(blob), "image/png");
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  clearButton.addEventListener("click", clear);
  clear();
  return { clear };
}

// Make `zone` accept dropped image files and `input` pick them; both call onFile(file).
export function acceptImageFiles(zone, input, onFile) {
  input.addEventListener("change", () => {
    if (input.files.length) onFile(input.files[0]);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) onFile(event.dataTransfer.files[0]);
  });
}

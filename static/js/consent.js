// The consent page's signature box (templates/portal/consent.html): signature_pad draws on the
// canvas, and each stroke puts the drawing, as a PNG data URL, into the form's hidden input.
// A static script, as the content security policy allows no inline script.
(() => {
  const canvas = document.querySelector("[data-signature-canvas]");
  if (!canvas || typeof window.SignaturePad !== "function") {
    return;
  }
  const input = document.getElementById(canvas.dataset.input);
  const pad = new window.SignaturePad(canvas, { minWidth: 0.8, maxWidth: 2.8, penColor: "#111" });
  // A signature kept by the server after another field's error, drawn again until it is cleared.
  let kept = input.value || "";
  let width = 0;

  function store() {
    input.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  }

  // The canvas's pixels follow its size on the screen times the pixel density, so lines stay
  // sharp on a phone; what was drawn is drawn again after a resize (turning the phone).
  function resize() {
    if (canvas.offsetWidth === width) {
      return; // a phone's address bar coming and going changes the height of the window only
    }
    width = canvas.offsetWidth;
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const strokes = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    if (strokes.length) {
      pad.fromData(strokes);
      store();
    } else if (kept) {
      pad.fromDataURL(kept, { width: canvas.offsetWidth, height: canvas.offsetHeight }).then(() => {
        input.value = kept;
      });
    }
  }

  pad.addEventListener("endStroke", () => {
    if (kept) {
      kept = ""; // the kept image is part of the canvas now: what is sent is the canvas
    }
    store();
  });
  document.querySelectorAll("[data-signature-clear]").forEach((button) => {
    button.addEventListener("click", () => {
      kept = "";
      pad.clear();
      store();
    });
  });
  canvas.closest("form").addEventListener("submit", () => {
    if (!kept) {
      store();
    }
  });
  window.addEventListener("resize", resize);
  resize();
})();

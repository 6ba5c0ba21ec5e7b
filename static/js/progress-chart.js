// Draws one line chart per concern from the JSON the patient page embeds (id "progress-data").
// A static file, as the content security policy allows no inline scripts.
(function () {
  const source = document.getElementById("progress-data");
  const holder = document.getElementById("progress-charts");
  if (!source || !holder || typeof Chart === "undefined") return;
  JSON.parse(source.textContent).forEach((concern, index) => {
    const column = document.createElement("div");
    column.className = "col-md-6";
    const title = document.createElement("h4");
    title.className = "h6";
    title.textContent = concern.label;
    const box = document.createElement("div");
    box.className = "progress-chart";
    const canvas = document.createElement("canvas");
    canvas.id = `progress-chart-${index}`;
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", `Scores for ${concern.label}`);
    box.appendChild(canvas);
    column.append(title, box);
    holder.appendChild(column);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: concern.dates,
        datasets: [
          { label: "Clinician", data: concern.clinician, borderColor: "#0d6efd", backgroundColor: "#0d6efd" },
          { label: "Patient", data: concern.patient, borderColor: "#d63384", backgroundColor: "#d63384", spanGaps: true },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 10, title: { display: true, text: "Improvement (0-10)" } } },
      },
    });
  });
})();

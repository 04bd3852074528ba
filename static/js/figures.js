// The figures dashboards' charts (Chart.js): per area, a figure's months this year against
// last year, and (on a branch's dashboard) its value per person. The data comes from the page
// (json_script "figures-charts"); a select picks the area's figure.
(function () {
  "use strict";
  const source = document.getElementById("figures-charts");
  if (!source || typeof Chart === "undefined") return;
  const charts = JSON.parse(source.textContent);
  const labels = JSON.parse(document.getElementById("figures-labels").textContent);
  const percent = (unit) => unit === "percent";
  const scale = (unit, values) => values.map((v) => (v === null ? null : percent(unit) ? v * 100 : v));
  const tick = (unit) => (value) => (percent(unit) ? value + "%" : value);

  function option(select, code, name) {
    const element = document.createElement("option");
    element.value = code;
    element.textContent = name;
    select.appendChild(element);
  }

  document.querySelectorAll("canvas.trend-chart").forEach((canvas) => {
    const area = canvas.dataset.area;
    const codes = (charts.areas[area] || []).filter((code) => charts.trends[code]);
    const select = canvas.closest(".card-body").querySelector(".trend-pick");
    codes.forEach((code) => option(select, code, charts.trends[code].name));
    if (!codes.length) return;
    let chart = null;
    function draw(code) {
      const trend = charts.trends[code];
      const data = {
        labels: labels.months,
        datasets: [
          { label: labels.this_year, data: scale(trend.unit, trend.this), borderColor: "#0d6efd",
            backgroundColor: "#0d6efd", tension: 0.2, spanGaps: true },
          { label: labels.last_year, data: scale(trend.unit, trend.last), borderColor: "#adb5bd",
            backgroundColor: "#adb5bd", borderDash: [6, 4], tension: 0.2, spanGaps: true },
        ],
      };
      if (chart) chart.destroy();
      chart = new Chart(canvas, {
        type: "line",
        data: data,
        options: { animation: false, scales: { y: { beginAtZero: true, ticks: { callback: tick(trend.unit) } } } },
      });
    }
    select.addEventListener("change", () => draw(select.value));
    draw(codes[0]);
  });

  document.querySelectorAll(".person-bars-col").forEach((column) => {
    const area = column.dataset.area;
    const codes = (charts.areas[area] || []).filter((code) => charts.persons[code]);
    if (!codes.length) return;
    column.hidden = false;
    const select = column.querySelector(".person-pick");
    const canvas = column.querySelector("canvas");
    codes.forEach((code) => option(select, code, charts.persons[code].name));
    let chart = null;
    function draw(code) {
      const bars = charts.persons[code];
      if (chart) chart.destroy();
      chart = new Chart(canvas, {
        type: "bar",
        data: { labels: bars.labels, datasets: [{ label: bars.name, data: scale(bars.unit, bars.values), backgroundColor: "#198754" }] },
        options: { animation: false, indexAxis: "y", plugins: { legend: { display: false } },
          scales: { x: { beginAtZero: true, ticks: { callback: tick(bars.unit) } } } },
      });
    }
    select.addEventListener("change", () => draw(select.value));
    draw(codes[0]);
  });

  // Typing a date makes the period a custom one.
  document.querySelectorAll("#id_start, #id_end").forEach((input) =>
    input.addEventListener("change", () => { document.getElementById("id_period").value = "custom"; }));
})();

"use strict";
const STATUS_TEXT = {to_review: "to review", in_progress: "in progress", reviewed: "reviewed"};

async function loadSeizures() {
  const site = document.getElementById("site").value;
  const status = document.getElementById("status").value;
  const query = new URLSearchParams();
  if (site) query.set("site", site);
  if (status) query.set("status", status);
  const result = await Review.api("GET", `/api/seizures?${query}`);
  const body = document.querySelector("#seizures tbody");
  body.replaceChildren();
  if (!result.ok) { Review.message(Review.detail(result), "error"); return; }
  for (const row of result.body) {
    const tr = Review.element("tr", {"data-id": row.id});
    const link = Review.element("a", {href: `/seizures/${row.id}`, class: "seizure-link"}, row.seizure);
    const cells = [row.site, link, row.patient, row.onset_s.toFixed(2), row.offset_s.toFixed(2), STATUS_TEXT[row.status], row.labels, row.proposals];
    for (const cell of cells) {
      const td = Review.element("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = String(cell);
      tr.append(td);
    }
    body.append(tr);
  }
  if (!result.body.length) Review.message("No seizures match.", "info"); else Review.message("");
}

(async () => {
  if (!(await Review.header())) return;
  const sites = await Review.api("GET", "/api/sites");
  const select = document.getElementById("site");
  for (const name of sites.body) select.append(Review.element("option", {value: name}, name));
  select.addEventListener("change", loadSeizures);
  document.getElementById("status").addEventListener("change", loadSeizures);
  await loadSeizures();
})();

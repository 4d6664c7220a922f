// The seizure page: video with the skeleton and face landmarks in sync, a timeline of sign spans
// made by keyboard while the video plays, model proposals, probability traces, attributions and
// joint corrections. Everything the server refuses (a role, a stale version) is shown as a message.
"use strict";

const seizureId = Number(window.location.pathname.split("/").pop());
const video = document.getElementById("video");
const overlay = document.getElementById("overlay");
const state = {
  seizure: null, keypoints: null, fps: 25, frame: -1, selected: null, openStart: null, pressedAt: 0,
  drag: null, jointDrag: null, user: null, firstOverlay: null,
};
const HOLD_MS = 300;

function duration() {
  if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
  if (state.keypoints) return state.keypoints.frames / state.fps;
  return state.seizure ? state.seizure.offset_s + 1 : 1;
}

function frameAt(seconds) {
  const last = state.keypoints ? state.keypoints.frames - 1 : Infinity;
  return Math.max(0, Math.min(last, Math.round(seconds * state.fps)));
}

// ---- overlay -------------------------------------------------------------------------------
function confidenceColour(confidence, alpha) {
  const c = Math.max(0, Math.min(1, confidence ?? 0));
  return `hsla(${Math.round(120 * c)}, 90%, 50%, ${alpha ?? (0.35 + 0.65 * c)})`;
}

function scale() {
  return video.videoWidth ? overlay.width / video.videoWidth : 1;
}

function drawStream(context, stream, frame, radius, edgeColour) {
  if (!stream || frame >= stream.coords.length) return;
  const points = stream.coords[frame];
  const confidence = stream.confidence[frame];
  const k = scale();
  context.lineWidth = 2;
  for (const [a, b] of stream.edges) {
    const p = points[a], q = points[b];
    if (p[0] === null || q[0] === null) continue;
    context.strokeStyle = edgeColour;
    context.beginPath(); context.moveTo(p[0] * k, p[1] * k); context.lineTo(q[0] * k, q[1] * k); context.stroke();
  }
  points.forEach((p, joint) => {
    if (p[0] === null || p[1] === null) return;
    context.fillStyle = confidenceColour(confidence[joint]);
    context.beginPath(); context.arc(p[0] * k, p[1] * k, radius, 0, 2 * Math.PI); context.fill();
  });
}

function draw(frame) {
  state.frame = frame;
  overlay.dataset.frame = String(frame);
  const context = overlay.getContext("2d");
  context.clearRect(0, 0, overlay.width, overlay.height);
  if (state.keypoints) {
    if (document.getElementById("show-body").checked) drawStream(context, state.keypoints.body, frame, 5, "rgba(255,255,255,0.7)");
    if (document.getElementById("show-face").checked) drawStream(context, state.keypoints.face, frame, 2, "rgba(0,0,0,0)");
    if (state.firstOverlay === null && video.readyState >= 2) {
      state.firstOverlay = performance.now();
      document.body.dataset.firstOverlayMs = String(Math.round(state.firstOverlay));
    }
  }
  const t = video.currentTime;
  document.getElementById("clock").textContent = `${t.toFixed(3)} s · frame ${frame}`;
  document.getElementById("playhead").style.left = `${trackLeft() + (t / duration()) * trackWidth()}px`;
  if (state.openStart !== null) growPending(t);
}

function onVideoFrame(_now, metadata) {
  draw(frameAt(metadata.mediaTime));
  video.requestVideoFrameCallback(onVideoFrame);
}

function fitOverlay() {
  overlay.width = video.clientWidth;
  overlay.height = video.clientHeight;
  overlay.style.width = `${video.clientWidth}px`;
  overlay.style.height = `${video.clientHeight}px`;
  draw(frameAt(video.currentTime));
}

// ---- timeline ------------------------------------------------------------------------------
function anyTrack() { return document.querySelector(".track"); }
function trackWidth() { const track = anyTrack(); return track ? track.clientWidth : 1; }
function trackLeft() {
  const track = anyTrack();
  if (!track) return 0;
  return track.getBoundingClientRect().left - document.getElementById("timeline").getBoundingClientRect().left;
}
function toSeconds(pixels) { return (pixels / trackWidth()) * duration(); }

function termsShown() {
  const chosen = document.getElementById("term").value;
  const terms = new Set(state.seizure.labels.map((label) => label.term));
  terms.add(chosen);
  return state.seizure.terms.filter((term) => terms.has(term.term));
}

function spanElement(label) {
  const node = Review.element("div", {class: `span ${label.status}`, "data-id": label.id, "data-version": label.version,
    "data-start": label.start_s, "data-end": label.end_s, title: describe(label)});
  node.style.left = `${(label.start_s / duration()) * 100}%`;
  node.style.width = `${((label.end_s - label.start_s) / duration()) * 100}%`;
  if (label.status !== "rejected") {
    node.append(Review.element("div", {class: "handle start"}), Review.element("div", {class: "handle end"}));
  }
  if (state.selected === label.id) node.classList.add("selected");
  node.addEventListener("mousedown", startDrag);
  return node;
}

function describe(label) {
  const who = label.model ? `model ${label.model}` : label.annotator;
  return `${label.term} ${label.start_s.toFixed(2)}–${label.end_s.toFixed(2)} s · ${label.status} · ${who} · v${label.version}`;
}

function renderTimeline() {
  const rows = document.getElementById("rows");
  rows.replaceChildren();
  for (const term of termsShown()) {
    const row = Review.element("div", {class: "row", "data-term": term.term});
    row.append(Review.element("div", {class: "row-name"}, term.label));
    const tracks = Review.element("div", {class: "tracks"});
    const human = Review.element("div", {class: "track human", "data-term": term.term});
    const proposals = Review.element("div", {class: "track proposals", "data-term": term.term});
    for (const label of state.seizure.labels.filter((item) => item.term === term.term)) {
      (label.status === "model_proposal" || label.status === "rejected" ? proposals : human).append(spanElement(label));
    }
    human.addEventListener("click", seekFromTrack);
    tracks.append(human, proposals);
    row.append(tracks);
    rows.append(row);
  }
  renderProposals();
  draw(frameAt(video.currentTime));
}

function seekFromTrack(event) {
  if (event.target !== event.currentTarget) return;
  const box = event.currentTarget.getBoundingClientRect();
  video.currentTime = toSeconds(event.clientX - box.left);
}

function renderProposals() {
  const list = document.getElementById("proposals");
  list.replaceChildren();
  for (const label of state.seizure.labels.filter((item) => item.model !== null)) {
    const item = Review.element("li", {"data-id": label.id, class: label.status});
    item.append(Review.element("span", {}, describe(label) + (label.confidence !== null ? ` · p=${label.confidence.toFixed(2)}` : "")));
    if (label.status === "model_proposal") {
      for (const [name, text] of [["accept", "Accept"], ["reject", "Reject"], ["show", "Go to"]]) {
        const button = Review.element("button", {type: "button", class: name, "data-id": label.id}, text);
        button.addEventListener("click", () => proposalAction(label, name));
        item.append(" ", button);
      }
    }
    list.append(item);
  }
}

async function proposalAction(label, action) {
  if (action === "show") { video.currentTime = label.start_s; state.selected = label.id; renderTimeline(); return; }
  const result = await Review.api("POST", `/api/labels/${label.id}/review`, {version: label.version, accept: action === "accept"});
  await afterWrite(result, `${action} of ${label.term} ${label.start_s.toFixed(2)}–${label.end_s.toFixed(2)} s`);
}

// ---- writes --------------------------------------------------------------------------------
async function reloadLabels() {
  const result = await Review.api("GET", `/api/seizures/${seizureId}`);
  if (result.ok) { state.seizure = result.body; renderTimeline(); }
}

async function afterWrite(result, attempted) {
  if (result.ok) {
    Review.message("Saved.", "info");
  } else if (result.status === 409) {
    Review.message(`Conflict: ${result.body.detail}. Your change (${attempted}) is shown here so that nothing is lost; the timeline now shows the other user's version.`, "conflict");
  } else {
    Review.message(Review.detail(result), "error");
  }
  await reloadLabels();
  return result.ok;
}

async function createSpan(start, end) {
  const [a, b] = start <= end ? [start, end] : [end, start];
  if (b - a < 1 / state.fps) { Review.message("A span must last at least one frame.", "error"); return; }
  const side = document.getElementById("side").value || null;
  const term = document.getElementById("term").value;
  const region = (state.seizure.terms.find((item) => item.term === term) || {}).region || null;
  const result = await Review.api("POST", `/api/seizures/${seizureId}/labels`, {term, start_s: a, end_s: b, side, region});
  await afterWrite(result, `new ${term} ${a.toFixed(2)}–${b.toFixed(2)} s`);
}

async function saveSpan(label, start, end) {
  const payload = {version: label.version, term: label.term, start_s: start, end_s: end, side: label.side, region: label.region,
    confidence: label.confidence};
  const result = await Review.api("PUT", `/api/labels/${label.id}`, payload);
  await afterWrite(result, `${label.term} ${start.toFixed(2)}–${end.toFixed(2)} s`);
}

async function deleteSelected() {
  const label = state.seizure.labels.find((item) => item.id === state.selected);
  if (!label) return;
  const result = await Review.api("DELETE", `/api/labels/${label.id}?version=${label.version}`);
  if (result.ok) state.selected = null;
  await afterWrite(result, `delete ${label.term} ${label.start_s.toFixed(2)}–${label.end_s.toFixed(2)} s`);
}

// ---- keyboard: spans while playing ---------------------------------------------------------
function growPending(t) {
  let pending = document.querySelector(".span.pending");
  const track = document.querySelector(`.track.human[data-term="${CSS.escape(document.getElementById("term").value)}"]`);
  if (!track) return;
  if (!pending) { pending = Review.element("div", {class: "span pending"}); track.append(pending); }
  const [a, b] = [Math.min(state.openStart, t), Math.max(state.openStart, t)];
  pending.style.left = `${(a / duration()) * 100}%`;
  pending.style.width = `${((b - a) / duration()) * 100}%`;
}

function typing(event) { return ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName); }

document.addEventListener("keydown", (event) => {
  if (typing(event)) return;
  const key = event.key.toLowerCase();
  if (key === "s") {
    event.preventDefault();
    if (event.repeat) return;
    if (state.openStart === null) {
      state.openStart = video.currentTime; state.pressedAt = performance.now(); growPending(video.currentTime);
    } else {
      const start = state.openStart; state.openStart = null; createSpan(start, video.currentTime);
    }
  } else if (key === "escape" && state.openStart !== null) {
    state.openStart = null;
    document.querySelectorAll(".span.pending").forEach((node) => node.remove());
  } else if (key === " ") {
    event.preventDefault(); togglePlay();
  } else if (key === "n" || key === "p") {
    jump(key === "n" ? 1 : -1);
  } else if (key === "," || key === ".") {
    video.pause(); video.currentTime = Math.max(0, (state.frame + (key === "." ? 1 : -1)) / state.fps + 0.5 / state.fps);
  } else if (key === "delete" || key === "backspace") {
    event.preventDefault(); deleteSelected();
  }
});

document.addEventListener("keyup", (event) => {
  if (typing(event) || event.key.toLowerCase() !== "s" || state.openStart === null) return;
  if (performance.now() - state.pressedAt >= HOLD_MS) {
    const start = state.openStart; state.openStart = null; createSpan(start, video.currentTime);
  }
});

function jump(direction) {
  const t = video.currentTime + direction * 1e-3;
  const starts = state.seizure.labels.map((label) => label.start_s).sort((a, b) => a - b);
  const target = direction > 0 ? starts.find((s) => s > t) : starts.reverse().find((s) => s < t - 0.05);
  if (target !== undefined) video.currentTime = target;
}

function togglePlay() { if (video.paused) video.play(); else video.pause(); }

// ---- dragging spans --------------------------------------------------------------------------
function startDrag(event) {
  event.stopPropagation();
  event.preventDefault();
  const node = event.currentTarget;
  const label = state.seizure.labels.find((item) => item.id === Number(node.dataset.id));
  state.selected = label.id;
  document.querySelectorAll(".span.selected").forEach((item) => item.classList.remove("selected"));
  node.classList.add("selected");
  const mode = event.target.classList.contains("start") ? "start" : event.target.classList.contains("end") ? "end" : "move";
  state.drag = {label, node, mode, x0: event.clientX, start: label.start_s, end: label.end_s, moved: false};
}

document.addEventListener("mousemove", (event) => {
  if (state.drag) {
    const drag = state.drag;
    const delta = toSeconds(event.clientX - drag.x0);
    if (Math.abs(event.clientX - drag.x0) > 2) drag.moved = true;
    let start = drag.label.start_s, end = drag.label.end_s;
    if (drag.mode === "move") { start += delta; end += delta; }
    if (drag.mode === "start") start = Math.min(start + delta, end - 1 / state.fps);
    if (drag.mode === "end") end = Math.max(end + delta, start + 1 / state.fps);
    start = Math.max(0, start);
    drag.start = start; drag.end = end;
    drag.node.style.left = `${(start / duration()) * 100}%`;
    drag.node.style.width = `${((end - start) / duration()) * 100}%`;
  } else if (state.jointDrag) {
    const box = overlay.getBoundingClientRect();
    state.jointDrag.x = (event.clientX - box.left) / scale();
    state.jointDrag.y = (event.clientY - box.top) / scale();
    const stream = state.keypoints[state.jointDrag.stream];
    stream.coords[state.jointDrag.frame][state.jointDrag.joint] = [state.jointDrag.x, state.jointDrag.y];
    draw(state.jointDrag.frame);
  }
});

document.addEventListener("mouseup", async () => {
  if (state.drag) {
    const drag = state.drag; state.drag = null;
    if (drag.moved) await saveSpan(drag.label, drag.start, drag.end);
  } else if (state.jointDrag) {
    const drag = state.jointDrag; state.jointDrag = null;
    const stream = state.keypoints[drag.stream];
    const result = await Review.api("POST", `/api/seizures/${seizureId}/corrections`,
      {frame: drag.frame, layout: stream.layout, joint: stream.joints[drag.joint], x: drag.x, y: drag.y});
    if (result.ok) {
      stream.confidence[drag.frame][drag.joint] = 1;
      Review.message(`Corrected ${stream.joints[drag.joint]} in frame ${drag.frame}.`, "info");
    } else {
      Review.message(Review.detail(result), "error");
      await loadKeypoints();
    }
    draw(drag.frame);
  }
});

// ---- joint corrections on a paused frame -------------------------------------------------
overlay.addEventListener("mousedown", (event) => {
  if (!video.paused || !state.keypoints) return;
  const box = overlay.getBoundingClientRect();
  const x = event.clientX - box.left, y = event.clientY - box.top, k = scale();
  let best = null;
  for (const name of ["body", "face"]) {
    const stream = state.keypoints[name];
    if (!stream || !document.getElementById(`show-${name}`).checked) continue;
    stream.coords[state.frame].forEach((p, joint) => {
      if (p[0] === null) return;
      const distance = Math.hypot(p[0] * k - x, p[1] * k - y);
      if (distance < 10 && (!best || distance < best.distance)) best = {stream: name, joint, distance};
    });
  }
  if (best) {
    event.preventDefault();
    state.jointDrag = {stream: best.stream, joint: best.joint, frame: state.frame, x: x / k, y: y / k};
  }
});

// ---- traces and attributions ---------------------------------------------------------------
function renderTraces() {
  const holder = document.getElementById("traces");
  holder.replaceChildren();
  for (const trace of state.seizure.traces) {
    const row = Review.element("div", {class: "trace", "data-model": trace.model});
    row.append(Review.element("div", {class: "row-name"}, `${trace.model}: p(${trace.task}=${trace.class})`));
    const canvas = Review.element("canvas", {height: "40"});
    row.append(canvas);
    holder.append(row);
    canvas.width = canvas.clientWidth || 600;
    const context = canvas.getContext("2d");
    context.strokeStyle = "#1d3557"; context.lineWidth = 1.5; context.beginPath();
    trace.start_s.forEach((start, index) => {
      const middle = (start + trace.end_s[index]) / 2;
      const x = (middle / duration()) * canvas.width, y = (1 - trace.probability[index]) * 38 + 1;
      if (index === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.stroke();
    canvas.addEventListener("click", (event) => {
      const t = ((event.clientX - canvas.getBoundingClientRect().left) / canvas.clientWidth) * duration();
      const index = trace.start_s.findIndex((start, i) => start <= t && t < trace.end_s[i]);
      if (index >= 0) showAttribution(trace.model, trace.start_s[index], trace.end_s[index]);
    });
  }
}

async function showAttribution(model, start, end) {
  const holder = document.getElementById("attribution");
  const query = new URLSearchParams({model, start_s: start, end_s: end});
  const result = await Review.api("GET", `/api/seizures/${seizureId}/attribution?${query}`);
  holder.replaceChildren();
  if (!result.ok) { holder.append(Review.element("p", {class: "hint"}, Review.detail(result))); return; }
  holder.append(Review.element("h3", {}, `${model}: evidence for ${result.body.class}, ${start.toFixed(1)}–${end.toFixed(1)} s`));
  const peak = Math.max(1e-9, ...result.body.values.map((v) => v ?? 0));
  result.body.joints.forEach((joint, index) => {
    const value = result.body.values[index] ?? 0;
    const bar = Review.element("div", {class: "bar", "data-joint": joint});
    const fill = Review.element("div", {class: "fill"});
    fill.style.width = `${(100 * value) / peak}%`;
    bar.append(Review.element("span", {}, joint), fill, Review.element("span", {}, value.toFixed(3)));
    holder.append(bar);
  });
}

// ---- loading -------------------------------------------------------------------------------
async function loadKeypoints() {
  const result = await Review.api("GET", `/api/seizures/${seizureId}/keypoints`);
  if (!result.ok) { Review.message(Review.detail(result), "error"); return; }
  state.keypoints = result.body;
  state.fps = result.body.fps;
  document.getElementById("synthetic-note").hidden = !result.body.synthetic;
}

(async () => {
  state.user = await Review.header();
  if (!state.user) return;
  const result = await Review.api("GET", `/api/seizures/${seizureId}`);
  if (!result.ok) {
    Review.message(Review.detail(result), "error");
    document.querySelector("main").hidden = true;
    return;
  }
  state.seizure = result.body;
  const s = state.seizure;
  document.getElementById("title").textContent = `Seizure ${s.seizure}`;
  document.getElementById("facts").textContent =
    `${s.site} · patient ${s.patient} · onset ${s.onset_s.toFixed(2)} s · offset ${s.offset_s.toFixed(2)} s`;
  const select = document.getElementById("term");
  for (const term of s.terms) select.append(Review.element("option", {value: term.term}, term.label));
  select.addEventListener("change", renderTimeline);
  await loadKeypoints();
  if (s.video) state.fps = s.video.fps || state.fps;
  document.getElementById("play").addEventListener("click", togglePlay);
  video.addEventListener("play", () => { document.getElementById("play").textContent = "Pause"; });
  video.addEventListener("pause", () => { document.getElementById("play").textContent = "Play"; });
  document.getElementById("speed").addEventListener("change", (event) => { video.playbackRate = Number(event.target.value); });
  for (const id of ["show-body", "show-face"]) document.getElementById(id).addEventListener("change", () => draw(state.frame));
  video.addEventListener("loadedmetadata", () => { fitOverlay(); renderTimeline(); renderTraces(); });
  video.addEventListener("seeked", () => draw(frameAt(video.currentTime)));
  video.addEventListener("loadeddata", () => {
    document.body.dataset.videoReadyMs = String(Math.round(performance.now()));
    draw(frameAt(video.currentTime));
  });
  window.addEventListener("resize", fitOverlay);
  video.requestVideoFrameCallback(onVideoFrame);
  renderTimeline();
  if (s.video) video.src = s.video.url; else Review.message("This seizure has no video; the skeleton is shown alone.", "info");
})();

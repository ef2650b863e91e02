// The admin page: look a hotel's main image up, set or clear its override (vanilla JS, no
// framework, nothing downloaded). The admin token lives in this tab's sessionStorage and goes
// only into the Authorization header of calls to this service's /v1 API, never into a URL.
"use strict";

(() => {
  const TOKEN_KEY = "main-image-admin-token";
  // what each scoring version's terms measure (docs/scoring.md); unknown terms are shown too
  const TERMS = {
    s_res: "resolution (log-scaled, at most 1)",
    s_ar: "aspect ratio",
    s_fresh: "freshness",
    s_tag: "top tag",
    s_obiq: "obiq quality score",
    s_ctr: "smoothed click-through rate",
    s_report: "user reports",
  };
  const $ = (id) => document.getElementById(id);
  const status = $("status");
  let hotelId = null; // the hotel searched last
  let shown = null; // its main image, as the API answered

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function storedToken() {
    return sessionStorage.getItem(TOKEN_KEY) || "";
  }

  function showTokenState() {
    $("token-state").textContent = storedToken()
      ? "Token set for this tab (sessionStorage)."
      : "No token yet: kept in this tab only (sessionStorage).";
  }

  function takeTypedToken() {
    const typed = $("token").value.trim();
    if (typed) {
      sessionStorage.setItem(TOKEN_KEY, typed);
      $("token").value = "";
    }
    showTokenState();
  }

  // the API's detail: a string, or FastAPI's list of validation errors
  function detailOf(data, response) {
    if (data && typeof data.detail === "string") return data.detail;
    if (data && Array.isArray(data.detail)) {
      return data.detail
        .map((e) => `${(e.loc || []).slice(1).join(".") || "request"}: ${e.msg}`)
        .join("; ");
    }
    return `${response.status} ${response.statusText}`.trim();
  }

  async function api(method, path, body) {
    const headers = { Authorization: `Bearer ${storedToken()}`, Accept: "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      return { ok: false, status: 0, data: null, detail: `the service did not answer (${error})` };
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    const detail = response.ok ? null : detailOf(data, response);
    return { ok: response.ok, status: response.status, data, detail };
  }

  function failure(result) {
    const code = result.status ? ` ${result.status}` : "";
    const hint = result.status === 401 ? " (check the admin token)" : "";
    say(`Error${code}: ${result.detail}${hint}`, "error");
  }

  function busy(on) {
    for (const button of document.querySelectorAll("button")) {
      if (on) button.dataset.wasDisabled = button.disabled ? "1" : "";
      button.disabled = on || button.dataset.wasDisabled === "1";
    }
  }

  function number(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function parseId(text) {
    const value = String(text).trim();
    return /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : null;
  }

  function showPicture(main) {
    const img = $("main-picture");
    const caption = $("main-caption");
    let url = null;
    try {
      url = new URL(main.cdn_url, window.location.href);
    } catch (_) {
      url = null;
    }
    img.removeAttribute("src");
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      caption.textContent = "cdn_url is not an http(s) address: no picture to show.";
      return;
    }
    img.alt = `Main image ${main.image_id} of hotel ${main.hotel_id}`;
    caption.textContent = `Image ${main.image_id}, from its cdn_url`;
    img.onerror = () => {
      caption.textContent = `The picture did not load from ${url.href}`;
    };
    img.src = url.href;
  }

  function showFacts(main) {
    const text = {
      hotel_id: String(main.hotel_id),
      image_id: String(main.image_id),
      selection_source: main.selection_source || "—",
      score: number(main.score, 4),
      scoring_version: main.scoring_version,
      margin: main.margin === null ? "alone (no other candidate)"
        : number(main.margin, 4) + (main.margin < 0 ? " (a candidate scores higher)" : ""),
      as_of: main.as_of,
      run_id: main.run_id,
      cdn_url: main.cdn_url,
    };
    for (const dd of document.querySelectorAll("#facts dd")) {
      dd.textContent = text[dd.dataset.field] ?? "—";
    }
  }

  function showTerms(terms) {
    const body = document.querySelector("#score-terms tbody");
    body.replaceChildren();
    if (!terms) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 3;
      cell.textContent = "No terms published for this image (an image chosen by the feed).";
      return;
    }
    const known = Object.keys(TERMS).filter((name) => name in terms);
    const others = Object.keys(terms).filter((name) => !(name in TERMS)).sort();
    for (const name of [...known, ...others]) {
      const row = body.insertRow();
      row.dataset.term = name;
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = name;
      row.append(th);
      const value = row.insertCell();
      value.className = "num";
      value.textContent = number(terms[name], 4);
      row.insertCell().textContent = TERMS[name] || "";
    }
  }

  function showCandidates(main) {
    const list = $("candidates");
    list.replaceChildren();
    const ids = main ? main.candidate_image_ids : [];
    if (!ids.length) {
      const item = document.createElement("li");
      item.textContent = "No candidates published: enter an image id below.";
      list.append(item);
      return;
    }
    for (const id of ids) {
      const item = document.createElement("li");
      item.dataset.imageId = String(id);
      item.append(`image ${id}`);
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = id === main.image_id ? "(main image)" : "";
      item.append(tag);
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Make main image";
      button.disabled = id === main.image_id;
      button.addEventListener("click", () => {
        $("override-image-id").value = String(id);
        setOverride();
      });
      item.append(button);
      list.append(item);
    }
  }

  async function search() {
    takeTypedToken();
    const id = parseId($("hotel-id").value);
    if (id === null) {
      say("Enter a hotel id (a positive whole number).", "error");
      return;
    }
    if (!storedToken()) {
      say("Enter the admin token first.", "error");
      return;
    }
    hotelId = id;
    history.replaceState(null, "", `#hotel=${id}`); // the hotel only: never the token
    say(`Looking hotel ${id} up…`);
    busy(true);
    const result = await api("GET", `/v1/hotels/${id}/main-image`);
    busy(false);
    shown = result.ok ? result.data : null;
    $("result").hidden = !result.ok;
    $("override").hidden = !(result.ok || result.status === 404);
    showCandidates(shown);
    if (!result.ok) {
      failure(result);
      return;
    }
    showPicture(shown);
    showFacts(shown);
    showTerms(shown.score_terms);
    $("result-title").textContent = `Main image of hotel ${id}`;
    say(`Hotel ${id}: image ${shown.image_id} (${shown.selection_source || "no source"}), ` +
      `computed by run ${shown.run_id}.`, "ok");
  }

  async function setOverride() {
    const imageId = parseId($("override-image-id").value);
    if (hotelId === null || imageId === null) {
      say("Search a hotel, then pick a candidate or enter an image id.", "error");
      return;
    }
    busy(true);
    const result = await api("PUT", `/v1/hotels/${hotelId}/main-image-override`, {
      image_id: imageId,
      set_by: $("set-by").value,
    });
    busy(false);
    if (!result.ok) {
      failure(result);
      return;
    }
    const o = result.data;
    say(`Override recorded for hotel ${o.hotel_id}: image ${o.image_id}, set by ${o.set_by} ` +
      `at ${o.set_at}. It applies ${o.applies}; until then the main image stays as shown.`,
    "ok");
  }

  async function clearOverride() {
    if (hotelId === null) {
      say("Search a hotel first.", "error");
      return;
    }
    busy(true);
    const setBy = encodeURIComponent($("set-by").value);
    const result = await api(
      "DELETE", `/v1/hotels/${hotelId}/main-image-override?set_by=${setBy}`);
    busy(false);
    if (!result.ok) {
      failure(result);
      return;
    }
    const o = result.data;
    say(`Override cleared for hotel ${o.hotel_id} by ${o.set_by} at ${o.set_at}. ` +
      `The automatic selection applies ${o.applies}.`, "ok");
  }

  function submitted(handler) {
    return (event) => {
      event.preventDefault();
      handler();
    };
  }

  $("token-form").addEventListener("submit", submitted(() => {
    takeTypedToken();
    say(storedToken() ? "Token set for this tab." : "Enter the admin token.",
      storedToken() ? "ok" : "error");
  }));
  $("forget-token").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    $("token").value = "";
    showTokenState();
    say("Token forgotten.");
  });
  $("search-form").addEventListener("submit", submitted(search));
  $("override-form").addEventListener("submit", submitted(setOverride));
  $("clear-override").addEventListener("click", clearOverride);

  showTokenState();
  const fromHash = /^#hotel=([0-9]+)$/.exec(window.location.hash);
  if (fromHash) {
    $("hotel-id").value = fromHash[1];
    if (storedToken()) search();
  }
})();

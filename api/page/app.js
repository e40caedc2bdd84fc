/* The dispatcher's page: sign in with an API key, look at a day's plan (map + timeline + cards),
   adjust it and re-solve, request plans, compare them, print sheets. Everything comes from the
   service this page is served by; nothing is fetched from anywhere else. */
(function () {
  "use strict";
  var t = window.I18N.t;
  var KEY = "patrol.key";
  var S = {
    key: null, me: null, district: null, cells: [], cellById: {}, plans: [], planId: null,
    view: null, win: null, f1: "", f2: "", selected: null, streets: {}, streetDetail: null,
    decisions: emptyDecisions(), addMode: false, lastChanges: null, jobTimer: null
  };
  var map, layers = {};

  function emptyDecisions() {
    return { lock: [], unavailable: [], drop: [], add: [], pins: [], moves: [] };
  }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { e.textContent = attrs[k]; }
      else if (k === "html") { e.innerHTML = attrs[k]; }
      else if (k.indexOf("on") === 0) { e.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return e;
  }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function pct(x) { return (100 * (x || 0)).toFixed(0) + "%"; }
  function num(x, d) { return (x || 0).toFixed(d === undefined ? 1 : d); }
  function minutes(iso) {
    var m = /(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(iso || "");
    return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) / 60000 : 0;
  }

  /* ---------------------------------------------------------------- API */
  function api(path, opts) {
    opts = opts || {};
    var headers = Object.assign({ "X-API-Key": S.key || "" }, opts.headers || {});
    if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: opts.method || "GET", headers: headers,
      body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body
    }).then(function (res) {
      if (res.status === 401 && !opts.signin) { signOut(); }
      if (!res.ok) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          var e = (body && body.error) || {};
          var err = new Error(e.message || (res.status + " " + res.statusText));
          err.status = res.status; err.body = e;
          throw err;
        });
      }
      if (opts.raw) { return res; }
      return res.json();
    });
  }
  function fail(err) {
    window.console.error(err);
    setJob(null, String(err && err.message || err));
  }

  /* ---------------------------------------------------------------- sign in */
  function signOut() {
    try { window.sessionStorage.removeItem(KEY); } catch (e) { /* ignore */ }
    S.key = null;
    $("signin").hidden = false;
    $("signin-key").focus();
  }
  function signIn(key) {
    S.key = key;
    return api("/me", { signin: true }).then(function (me) {
      S.me = me;
      try { window.sessionStorage.setItem(KEY, key); } catch (e) { /* ignore */ }
      $("signin").hidden = true;
      $("who").textContent = me.name + " (" + me.role + ")";
      $("new-plan").hidden = !may("plans:write");
      $("import").hidden = !may("districts:write");
      return start();
    });
  }
  function may(permission) { return S.me && S.me.permissions.indexOf(permission) >= 0; }

  /* ---------------------------------------------------------------- boot */
  function start() {
    if (!map) { initMap(); }
    return api("/districts").then(function (list) {
      var sel = $("district");
      sel.innerHTML = "";
      list.items.forEach(function (d) { sel.appendChild(el("option", { value: d, text: d })); });
      var wanted = new URLSearchParams(location.hash.slice(1)).get("district");
      sel.value = wanted && list.items.indexOf(wanted) >= 0 ? wanted : (list.items.indexOf("demo") >= 0 && list.items.length === 1 ? "demo" : list.items[0]);
      return openDistrict(sel.value);
    });
  }
  function openDistrict(name) {
    S.district = name; S.planId = null; S.view = null; S.streets = {}; S.streetDetail = null;
    S.decisions = emptyDecisions(); S.lastChanges = null;
    return api("/districts/" + encodeURIComponent(name) + "/map").then(function (m) {
      if (name !== S.district) { return; }
      S.cells = m.cells; S.cellById = {};
      m.cells.forEach(function (c) { S.cellById[c.id] = c; });
      S.levels = m.levels;
      map.fitBounds(m.bounds);
      drawCells();
      fillFilters();
      loadStreets();
      return loadPlans(true);
    });
  }
  function loadPlans(pickDate) {
    var district = S.district;
    return api("/plans?limit=500&district=" + encodeURIComponent(district)).then(function (list) {
      if (district !== S.district) { return; }
      S.plans = list.items;
      if (pickDate && !$("date").value) {
        var tomorrow = new Date(Date.now() + 864e5);
        $("date").value = S.plans.length ? S.plans[0].date
          : tomorrow.getFullYear() + "-" + ("0" + (tomorrow.getMonth() + 1)).slice(-2) + "-" + ("0" + tomorrow.getDate()).slice(-2);
      }
      return fillPlans();
    });
  }
  function planLabel(p) {
    var made = new Date(p.created_at);
    var when = isNaN(made.getTime()) ? p.created_at.slice(11, 16)
      : ("0" + made.getHours()).slice(-2) + ":" + ("0" + made.getMinutes()).slice(-2);
    return when + " · " + p.engine + " · seed " + p.seed + (p.parent_id ? " · ✎" : "") + " · " + p.id.slice(0, 8);
  }
  function fillPlans(wanted) {
    var sel = $("plan");
    var day = $("date").value;
    var mine = S.plans.filter(function (p) { return !day || p.date === day; });
    sel.innerHTML = "";
    if (!mine.length) { sel.appendChild(el("option", { value: "", text: t("top.noplan") })); }
    mine.forEach(function (p) { sel.appendChild(el("option", { value: p.id, text: planLabel(p) })); });
    var id = wanted || (mine.length ? mine[0].id : "");
    sel.value = id;
    if (id) { return openPlan(id); }
    S.view = null; render();
    return Promise.resolve();
  }
  function openPlan(id) {
    S.planId = id;
    $("plan").value = id;
    fillCompare();
    return api("/plans/" + id + "/view").then(function (view) {
      // an answer for a plan no longer chosen (a big plan's view is slow) is dropped: it drew
      // that plan under the chosen one's name, and adjusting sent its edits to the chosen one
      if (id !== S.planId) { return; }
      S.view = view;
      window.I18N.setCategories(view.category_zh);
      var sel = $("window");
      var before = S.win;
      sel.innerHTML = "";
      view.windows.forEach(function (w) { sel.appendChild(el("option", { value: w.label, text: w.label })); });
      var labels = view.windows.map(function (w) { return w.label; });
      S.win = labels.indexOf(before) >= 0 ? before : labels[labels.length - 1];
      sel.value = S.win;
      render(true);
      loadHistory();
    });
  }

  /* ---------------------------------------------------------------- map */
  function initMap() {
    map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
    layers.tiles = null;
    if (S.me && S.me.tile_url) { layers.tiles = L.tileLayer(S.me.tile_url, { maxZoom: 19 }).addTo(map); }
    map.createPane("streets"); map.getPane("streets").style.zIndex = 250;
    map.createPane("cells"); map.getPane("cells").style.zIndex = 300;
    map.createPane("heat"); map.getPane("heat").style.zIndex = 350;
    layers.streets = L.layerGroup().addTo(map);
    layers.cells = L.layerGroup().addTo(map);
    layers.labels = L.layerGroup().addTo(map);
    layers.heat = L.layerGroup().addTo(map);
    layers.routes = L.layerGroup().addTo(map);
    layers.stops = L.layerGroup().addTo(map);
    layers.pending = L.layerGroup().addTo(map);
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var d = L.DomUtil.create("div", "legend");
      d.id = "legend";
      return d;
    };
    legend.addTo(map);
    map.on("zoomend", function () { loadStreets(); drawStops(); declutter(); });
    map.on("click", function (ev) { addAt(ev); });
  }
  /* In "add hotspot" mode a click anywhere on the map adds one there, also on a route, a stop
     or a hotspot (where streets and so routes are); returns whether it did. */
  function addAt(ev) {
    if (!S.addMode) { return false; }
    if (ev.originalEvent) { L.DomEvent.stop(ev.originalEvent); }
    S.addMode = false;
    $("map").style.cursor = "";
    setJob(null, "");
    S.decisions.add.push({ lon: +ev.latlng.lng.toFixed(6), lat: +ev.latlng.lat.toFixed(6) });
    renderAdjust(); drawPending();
    return true;
  }
  function streetDetail() {
    var z = map.getZoom();
    return z >= 16 ? "high" : (z >= 14 ? "medium" : "low");
  }
  function loadStreets() {
    if (!S.district) { return; }
    var detail = streetDetail();
    if (detail === S.streetDetail) { return; }
    S.streetDetail = detail;
    var district = S.district;
    var got = S.streets[detail] ? Promise.resolve(S.streets[detail])
      : api("/districts/" + encodeURIComponent(district) + "/streets?detail=" + detail);
    got.then(function (data) {
      if (district !== S.district || detail !== S.streetDetail) { return; }
      S.streets[detail] = data;
      layers.streets.clearLayers();
      $("map").setAttribute("data-streets", detail + ":" + data.layers.reduce(function (n, l) { return n + l.length; }, 0));
      var styles = [{ color: "#c9c9c0", weight: 1 }, { color: "#b5b0a0", weight: 2 }, { color: "#e0b060", weight: 3 }];
      data.layers.forEach(function (lines, cls) {
        var latlngs = lines.map(function (flat) {
          var out = [];
          for (var i = 0; i < flat.length; i += 2) { out.push([flat[i], flat[i + 1]]); }
          return out;
        });
        if (latlngs.length) {
          layers.streets.addLayer(L.polyline(latlngs, Object.assign({ pane: "streets", interactive: false }, styles[cls])));
        }
      });
    }).catch(fail);
  }
  function rings(c) {
    return c.rings.map(function (flat) {
      var out = [];
      for (var i = 0; i < flat.length; i += 2) { out.push([flat[i], flat[i + 1]]); }
      return out;
    });
  }
  function drawCells() {
    layers.cells.clearLayers(); layers.labels.clearLayers();
    var maxLevel = Math.max.apply(null, S.cells.map(function (c) { return c.level; }));
    $("map").setAttribute("data-cells", String(S.cells.length));
    S.cells.slice().sort(function (a, b) { return b.level - a.level; }).forEach(function (c) {
      var style = c.level === 1 ? { color: "#1e2a44", weight: 3, fill: false }
        : c.level === 2 ? { color: "#3d4f7a", weight: 1.8, fill: true, fillColor: c.colour || "#ccd", fillOpacity: 0.06 }
        : { color: "#6b7a99", weight: 0.7, dashArray: "3 3", fill: false };
      layers.cells.addLayer(L.polygon(rings(c), Object.assign({ pane: "cells", interactive: false }, style)));
      if (c.level <= 3) {
        // a level-1 label sits in its cell's north-west corner, clear of the level-2 labels
        var at = c.level === 1 && maxLevel > 1 ? L.latLngBounds(rings(c)[0]).getNorthWest() : c.label;
        layers.labels.addLayer(L.marker(at, {
          interactive: false, level: c.level, cell: c.id,
          // a level-3 cell named after its id ("Auto grid G1-01-01") shows the id alone, as the
          // group cards name it
          icon: L.divIcon({ className: "", html: '<span class="celllabel l' + c.level + '">' +
            esc(c.level >= 3 && c.name && c.name.indexOf(c.id) >= 0 ? c.id : cellName(c)) + "</span>", iconSize: null })
        }));
      }
    });
    declutter();
  }
  /* Cell names that would overlap an earlier one (level 1 first) are hidden at this zoom: the
     91 cells of a bureau's district otherwise print over each other. Level-3 names show for the
     level-2 cell in view, else from zoom 16 (a few streets per cell). */
  function declutter() {
    var kept = [];
    var zoomed = map.getZoom() >= 16;
    var shows = function (m) {
      if (m.options.level < 3) { return true; }
      var parent = (S.cellById[m.options.cell] || {}).parent;
      return S.f2 ? parent === S.f2 : zoomed;
    };
    var labels = layers.labels.getLayers().slice().sort(function (a, b) { return a.options.level - b.options.level; });
    labels.forEach(function (m) {
      var e = m.getElement();
      if (!e || !e.firstChild) { return; }
      e.style.visibility = "";
      if (!shows(m)) { e.style.visibility = "hidden"; return; }
      var r = e.firstChild.getBoundingClientRect();
      var hit = kept.some(function (k) { return r.left < k.right && r.right > k.left && r.top < k.bottom && r.bottom > k.top; });
      if (hit) { e.style.visibility = "hidden"; } else { kept.push(r); }
    });
    $("map").setAttribute("data-labels", String(kept.length));
  }
  function cellName(c) {
    // "G1-02 Auto grid G1-02" says the id twice: a name holding the id is shown alone
    if (!c.name) { return c.id; }
    return c.name.indexOf(c.id) >= 0 ? c.name : c.id + " " + c.name;
  }
  function fillFilters() {
    var f1 = $("f1"), f2 = $("f2");
    f1.innerHTML = ""; f1.appendChild(el("option", { value: "", text: t("top.all") }));
    S.cells.filter(function (c) { return c.level === 1; }).forEach(function (c) {
      f1.appendChild(el("option", { value: c.id, text: cellName(c) }));
    });
    f1.value = S.f1 && S.cellById[S.f1] ? S.f1 : "";
    S.f1 = f1.value;
    fillF2();
  }
  function fillF2() {
    var f2 = $("f2");
    f2.innerHTML = ""; f2.appendChild(el("option", { value: "", text: t("top.all") }));
    S.cells.filter(function (c) { return c.level === 2 && (!S.f1 || c.parent === S.f1); }).forEach(function (c) {
      f2.appendChild(el("option", { value: c.id, text: cellName(c) }));
    });
    f2.value = S.f2 && S.cellById[S.f2] && (!S.f1 || S.cellById[S.f2].parent === S.f1) ? S.f2 : "";
    S.f2 = f2.value;
  }

  /* ---------------------------------------------------------------- the window in view */
  function win() {
    if (!S.view) { return null; }
    return S.view.windows.filter(function (w) { return w.label === S.win; })[0] || null;
  }
  function inFilter(item) {
    var cells = item.cells || [item.grid];
    if (S.f2) { return cells.indexOf(S.f2) >= 0 || item.grid === S.f2; }
    if (S.f1) { return cells.indexOf(S.f1) >= 0 || item.grid === S.f1; }
    return true;
  }
  function routesInView() {
    var w = win();
    return w ? w.routes.filter(inFilter) : [];
  }
  function dash(line) { return line === "dashed" ? "8 6" : (line === "dotted" ? "2 5" : null); }
  function latlngs(flat) {
    var out = [];
    for (var i = 0; i < flat.length; i += 2) { out.push([flat[i], flat[i + 1]]); }
    return out;
  }

  function render(fit) {
    drawPlan(fit);
    renderGroups(); renderLeft(); renderSummary(); renderStaffing(); renderAdjust(); renderMetrics();
    drawTimeline(); drawPending();
  }
  function drawPlan(fit) {
    layers.routes.clearLayers(); layers.heat.clearLayers();
    var w = win();
    var legend = $("legend");
    if (legend) {
      legend.innerHTML = '<div><i style="background:#e31a1c"></i>' + esc(t("map.heat")) + '</div><div><i style="background:#999;border:1px dashed #333"></i>' + esc(t("map.left")) + "</div>";
    }
    if (!w) { layers.stops.clearLayers(); return; }
    // the heat is relative to the hottest hotspot in view, so a quiet cell still shows its peaks
    var inView = w.hotspots.filter(inFilter);
    var vmax = Math.max.apply(null, inView.map(function (h) { return h.value; }).concat([1e-9]));
    var dropped = S.decisions.drop;
    inView.forEach(function (h) {
      var q = Math.sqrt(h.value / vmax);
      var out = !!h.out || dropped.indexOf(h.id) >= 0;
      var colour = out ? "#888" : heat(q);
      var m = L.circleMarker([h.lat, h.lon], {
        pane: "heat", radius: 5 + 13 * q, color: out ? "#333" : colour, weight: out ? 1.5 : 1,
        dashArray: out ? "3 2" : null, fillColor: colour, fillOpacity: out ? 0.25 : 0.6
      });
      m.bindTooltip(esc(window.I18N.label(h.label) || h.id) + "<br>" + esc(h.id) + " · " + t("group.value") + " " + h.value.toFixed(4) +
        (h.out ? "<br><b>" + esc(t("map.left")) + ":</b> " + esc(h.out) : ""));
      m.on("click", function (ev) { if (!addAt(ev)) { hotspotPopup(h, ev.latlng); } });
      layers.heat.addLayer(m);
    });
    w.left_out.filter(function (lo) { return lo.kind === "post" && lo.lat !== null && inFilter(lo); }).forEach(function (lo) {
      layers.heat.addLayer(L.marker([lo.lat, lo.lon], {
        icon: L.divIcon({ className: "", html: '<span class="stopnum post" style="background:#777">✕</span>', iconSize: [18, 18], iconAnchor: [9, 9] })
      }).bindTooltip(esc(t("map.post")) + " " + esc(lo.name || lo.site_id) + "<br>" + esc(lo.reason)));
    });
    var shown = routesInView();
    var bounds = [];
    shown.forEach(function (r) {
      var off = S.decisions.unavailable.indexOf(r.id) >= 0;
      var faded = S.selected && S.selected !== r.id;
      var line = L.polyline(latlngs(r.path), {
        color: r.colour, weight: S.selected === r.id ? 6 : 3.5, opacity: off ? 0.25 : (faded ? 0.35 : 0.9),
        dashArray: dash(r.line)
      });
      line.bindTooltip(esc(r.id) + " · " + esc(r.leader ? r.leader.name : ""));
      line.on("click", function (ev) { if (!addAt(ev)) { select(r.id); } });
      layers.routes.addLayer(line);
      bounds = bounds.concat(latlngs(r.path));
    });
    var box = $("map");
    box.setAttribute("data-routes", String(shown.length));
    box.setAttribute("data-hotspots", String(w.hotspots.filter(inFilter).length));
    box.setAttribute("data-plan", S.planId || "");
    box.setAttribute("data-window", S.win || "");
    drawStops();
    if (fit) { map.invalidateSize(); }
    if (fit && bounds.length) { map.fitBounds(bounds, { padding: [36, 36] }); }
    else if (fit && (S.f2 || S.f1)) {
      var c = S.cellById[S.f2 || S.f1];
      if (c) { map.fitBounds(L.latLngBounds(rings(c)[0])); }
    }
  }
  function heat(q) {
    var stops = [[254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
    var x = Math.max(0, Math.min(0.999, q)) * (stops.length - 1);
    var i = Math.floor(x), f = x - i;
    var a = stops[i], b = stops[i + 1];
    return "rgb(" + [0, 1, 2].map(function (k) { return Math.round(a[k] + f * (b[k] - a[k])); }).join(",") + ")";
  }
  function drawStops() {
    if (!layers.stops) { return; }
    layers.stops.clearLayers();
    var shown = routesInView();
    var numbered = shown.filter(function (r) {
      return S.selected ? r.id === S.selected : (shown.length <= 24 || map.getZoom() >= 16);
    });
    numbered.forEach(function (r) {
      var seen = {};
      r.stops.forEach(function (s) {
        if (s.kind === "start" || s.kind === "end") { return; }
        var key = s.lat.toFixed(5) + "," + s.lon.toFixed(5);
        var k = seen[key] || 0; seen[key] = k + 1;
        var icon = L.divIcon({
          className: "", iconSize: [20, 18], iconAnchor: [10 - 14 * (k % 3), 9 + 14 * Math.floor(k / 3)],
          html: '<div class="stopnum' + (s.kind === "post" ? " post" : "") + '" data-stop="' + esc(r.id) + '" style="--c:' + r.colour + '">' + s.n + "</div>"
        });
        var m = L.marker([s.lat, s.lon], { icon: icon, keyboard: false });
        m.bindTooltip("<b>" + esc(r.id) + " #" + s.n + "</b> " + esc(window.I18N.place(s.name)) + "<br>" +
          t("stop.arr") + " " + s.arr + " · " + t("stop.dep") + " " + s.dep + " · " + t("stop.dwell") + " " + num(s.dwell, 0) + " " + t("min") +
          (s.wait ? " · " + t("stop.wait") + " " + num(s.wait, 0) + " " + t("min") : "") + "<br>" + esc(window.I18N.purpose(s.purpose)),
          { className: "stop" });
        m.on("click", function (ev) {
          if (addAt(ev)) { return; }
          // the stop's number covers its hotspot: the hotspot's popup (drop it) opens from here
          var h = s.kind === "hotspot" ? hotspotById(s.site_id) : null;
          if (S.selected !== r.id) { select(r.id); }
          if (h) { hotspotPopup(h, L.latLng(s.lat, s.lon)); }
        });
        layers.stops.addLayer(m);
      });
    });
  }
  function hotspotById(id) {
    var w = win();
    return w ? w.hotspots.filter(function (h) { return h.id === id; })[0] || null : null;
  }
  function hotspotPopup(h, at) {
    var body = el("div", {}, [
      el("b", { text: window.I18N.label(h.label) || h.id }), el("br"), el("span", { text: h.id + " · " + t("group.value") + " " + h.value.toFixed(4) }),
      h.out ? el("div", { text: t("map.left") + ": " + h.out }) : null
    ]);
    if (may("plans:write") && S.decisions.drop.indexOf(h.id) < 0) {
      body.appendChild(el("button", {
        text: t("adj.dropbtn"), "data-drop": h.id,
        onclick: function () { S.decisions.drop.push(h.id); map.closePopup(); render(); showTab("adjust"); }
      }));
    }
    L.popup().setLatLng(at).setContent(body).openOn(map);
  }
  function drawPending() {
    layers.pending.clearLayers();
    S.decisions.add.forEach(function (a) {
      layers.pending.addLayer(L.circleMarker([a.lat, a.lon], { radius: 9, color: "#7c3aed", weight: 3, fill: false }));
    });
  }

  /* ---------------------------------------------------------------- selection */
  function select(id) {
    S.selected = S.selected === id ? null : id;
    drawPlan(false); renderGroups(); drawTimeline();
    if (S.selected) {
      var card = document.querySelector('.card[data-group="' + CSS.escape(S.selected) + '"]');
      if (card) { card.scrollIntoView({ block: "nearest" }); }
    }
  }

  /* ---------------------------------------------------------------- side panels */
  function showTab(name) {
    document.querySelectorAll("#tabs button").forEach(function (b) { b.classList.toggle("active", b.getAttribute("data-tab") === name); });
    document.querySelectorAll(".panel").forEach(function (p) { p.hidden = p.id !== "panel-" + name; });
    if (name === "stats" && !$("stats-table").firstChild) { showStats(); }
  }
  function person(p) {
    var role = t("group." + p.role);
    return esc(p.name) + ' <span class="sub">' + esc(role) + (p.phone ? " · ☎ " + esc(p.phone) : "") + "</span>";
  }
  function has(list, id) { return list.indexOf(id) >= 0; }
  function toggle(list, id) { var i = list.indexOf(id); if (i >= 0) { list.splice(i, 1); } else { list.push(id); } }
  function renderGroups() {
    var panel = $("panel-groups");
    panel.innerHTML = "";
    var shown = routesInView();
    if (!shown.length) { panel.appendChild(el("p", { class: "hint", text: t("group.none") })); return; }
    var planner = may("plans:write");
    var others = (win() || { routes: [] }).routes;
    var planned = shown.map(function (r) { return r.grid; }).filter(function (g, i, all) { return all.indexOf(g) === i; });
    if (planned.length <= 30) {
      panel.appendChild(el("div", { class: "row", style: "margin-bottom:6px" }, [
        el("button", { id: "print-cells", text: t("group.printcells") + " (" + planned.length + ")",
          onclick: function () { printSheets({ cell: planned }); } })
      ]));
    }
    shown.forEach(function (r) {
      var locked = has(S.decisions.lock, r.id), off = has(S.decisions.unavailable, r.id);
      var pinned = S.decisions.pins.some(function (p) { return p.group_id === r.id; });
      var card = el("div", { class: "card" + (S.selected === r.id ? " selected" : "") + (locked ? " locked" : "") + (off ? " off" : ""),
        style: "--c:" + r.colour, "data-group": r.id });
      var head = el("h3", {}, [
        el("span", { text: r.id }),
        locked ? el("span", { class: "badge lock", text: t("group.locked") }) : null,
        off ? el("span", { class: "badge off", text: t("group.unavailable") }) : null,
        pinned ? el("span", { class: "badge pin", text: t("group.pinned") }) : null
      ]);
      head.addEventListener("click", function () { select(r.id); });
      card.appendChild(head);
      card.appendChild(el("div", { class: "sub", text: r.grid + " · " + t("mode." + r.mode) + " · " + r.stops.length + " " + t("group.visits") +
        " · " + num(r.km) + " " + t("group.km") + " · " + r.stops[0].arr + "–" + r.stops[r.stops.length - 1].arr }));
      if (r.leader) { card.appendChild(el("div", { html: "<b>" + esc(t("group.leader")) + ":</b> " + person(r.leader) })); }
      var ul = el("ul");
      r.members.slice(1).forEach(function (p) {
        var li = el("li", { html: person(p) });
        if (planner && S.selected === r.id) {
          var sel = el("select", { "data-move": p.id, "aria-label": t("group.move") }, [el("option", { value: "", text: t("group.move") })]);
          others.filter(function (o) { return o.id !== r.id; }).forEach(function (o) { sel.appendChild(el("option", { value: o.id, text: o.id })); });
          sel.addEventListener("change", function () {
            if (sel.value) { S.decisions.moves.push({ person_id: p.id, to_group: sel.value }); renderAdjust(); showTab("adjust"); }
          });
          li.appendChild(document.createTextNode(" ")); li.appendChild(sel);
        }
        ul.appendChild(li);
      });
      card.appendChild(el("div", { html: "<b>" + esc(t("group.members")) + ":</b>" }));
      card.appendChild(ul);
      var actions = el("div", { class: "actions" });
      if (planner) {
        actions.appendChild(el("button", { text: locked ? t("group.unlock") : t("group.lock"), "data-action": "lock",
          onclick: function () { toggle(S.decisions.lock, r.id); render(); } }));
        actions.appendChild(el("button", { text: off ? t("group.on") : t("group.off"), "data-action": "unavailable",
          onclick: function () { toggle(S.decisions.unavailable, r.id); render(); } }));
      }
      actions.appendChild(el("button", { text: t("group.print"), "data-action": "print", onclick: function () { printSheets({ group: [r.id] }); } }));
      actions.appendChild(el("button", { text: t("group.zoom"), onclick: function () { map.fitBounds(latlngs(r.path), { padding: [30, 30] }); } }));
      card.appendChild(actions);
      if (S.selected === r.id) { card.appendChild(stopTable(r, planner)); }
      panel.appendChild(card);
    });
  }
  function stopTable(r, planner) {
    var table = el("table", { class: "grid" });
    table.appendChild(el("tr", {}, ["#", t("stop.arr"), t("stop.dep"), t("stop.dwell"), ""].map(function (h) { return el("th", { text: h }); })));
    r.stops.forEach(function (s) {
      var tr = el("tr", { title: window.I18N.purpose(s.purpose) }, [
        el("td", { text: String(s.n) }), el("td", { text: s.arr }), el("td", { text: s.dep }),
        el("td", { text: s.kind === "start" || s.kind === "end" ? "" : num(s.dwell, 0) }),
        el("td", { text: window.I18N.place(s.name) })
      ]);
      if (planner && (s.kind === "hotspot" || s.kind === "post")) {
        var b = el("button", { text: t("group.pin"), "data-pin": s.site_id, onclick: function () {
          var at = window.prompt(t("group.pin") + " " + s.site_id + " (HH:MM)", s.arr);
          if (at && /^\d{1,2}:\d{2}$/.test(at)) {
            S.decisions.pins.push({ group_id: r.id, site_id: s.site_id, at: atTime(at) });
            render(); showTab("adjust");
          }
        } });
        tr.lastChild.appendChild(document.createTextNode(" ")); tr.lastChild.appendChild(b);
      }
      table.appendChild(tr);
    });
    return table;
  }
  function atTime(hhmm) {
    var w = win();
    var start = w.start;
    var day = start.slice(0, 10);
    var parts = hhmm.split(":");
    var hh = ("0" + parts[0]).slice(-2), mm = parts[1];
    var text = day + "T" + hh + ":" + mm + ":00";
    if (minutes(text) < minutes(start)) {
      var d = new Date(Date.UTC(+day.slice(0, 4), +day.slice(5, 7) - 1, +day.slice(8, 10) + 1));
      text = d.toISOString().slice(0, 10) + "T" + hh + ":" + mm + ":00";
    }
    return text;
  }
  function renderLeft() {
    var panel = $("panel-left");
    panel.innerHTML = "";
    var w = win();
    var items = w ? w.left_out.filter(inFilter) : [];
    if (!items.length) { panel.appendChild(el("p", { class: "hint", text: t("left.none") })); return; }
    var table = el("table", { class: "grid" });
    table.appendChild(el("tr", {}, [t("left.site"), t("left.kind"), t("left.cell"), t("left.reason")].map(function (h) { return el("th", { text: h }); })));
    items.forEach(function (lo) {
      var tr = el("tr", { class: "click" }, [
        el("td", { text: (lo.name ? lo.name + " " : "") + "(" + lo.site_id + ")" }),
        el("td", { text: t("left." + lo.kind) }), el("td", { text: lo.grid }),
        el("td", { html: (lo.code ? "<b>" + esc(window.I18N.code(lo.code)) + "</b>: " : "") + esc(lo.reason) })
      ]);
      if (lo.lat !== null) { tr.addEventListener("click", function () { map.setView([lo.lat, lo.lon], Math.max(map.getZoom(), 16)); }); }
      table.appendChild(tr);
    });
    panel.appendChild(table);
  }
  function renderSummary() {
    var panel = $("panel-summary");
    panel.innerHTML = "";
    if (!S.view) { return; }
    var rows = S.view.summary.filter(function (r) { return r.window === S.win; });
    var table = el("table", { class: "grid", id: "summary-table" });
    table.appendChild(el("tr", {}, [t("sum.cell"), t("sum.groups"), t("sum.visits"), t("sum.coverage"), t("sum.posts"), t("sum.km"), t("sum.left")].map(function (h, i) {
      return el("th", { class: i ? "num" : "", text: h });
    })));
    rows.forEach(function (r) {
      var tr = el("tr", { class: "click l" + r.level }, [
        el("td", { text: (r.level === 0 ? t("sum.district") + " " : "\u00a0".repeat(2 * Math.max(0, r.level - 1))) + r.cell + (r.name ? " " + r.name : "") }),
        el("td", { class: "num", text: String(r.groups) }), el("td", { class: "num", text: String(r.visits) }),
        el("td", { class: "num", text: pct(r.coverage) }), el("td", { class: "num", text: r.posts_staffed + "/" + r.posts_required }),
        el("td", { class: "num", text: num(r.km) }), el("td", { class: "num", text: String(r.left_out) })
      ]);
      tr.addEventListener("click", function () {
        if (r.level === 1) { setFilter(r.cell, ""); } else if (r.level === 2) { setFilter(S.cellById[r.cell] ? S.cellById[r.cell].parent : "", r.cell); } else { setFilter("", ""); }
      });
      table.appendChild(tr);
    });
    panel.appendChild(table);
  }
  function renderStaffing() {
    var panel = $("panel-staffing");
    panel.innerHTML = "";
    var w = win();
    if (!w || !w.staffing) { return; }
    var st = w.staffing;
    panel.appendChild(el("h4", { text: t("staff.counts") }));
    var table = el("table", { class: "grid" });
    Object.keys(st.counts).forEach(function (k) {
      table.appendChild(el("tr", {}, [el("td", { text: t("count." + k) }), el("td", { class: "num", text: String(Math.round(st.counts[k] * 10) / 10) })]));
    });
    panel.appendChild(table);
    var byCode = {};
    st.unassigned.forEach(function (u) { (byCode[u.code] = byCode[u.code] || []).push(u); });
    panel.appendChild(el("h4", { text: t("staff.unused") + " (" + st.unassigned.length + ")" }));
    Object.keys(byCode).forEach(function (code) {
      var list = byCode[code];
      var det = el("details", {}, [el("summary", { text: window.I18N.code(code) + " — " + list.length })]);
      var tb = el("table", { class: "grid" });
      tb.appendChild(el("tr", {}, [t("staff.person"), t("staff.role"), t("staff.reason")].map(function (h) { return el("th", { text: h }); })));
      list.slice(0, 400).forEach(function (u) {
        tb.appendChild(el("tr", {}, [el("td", { text: u.person_id }), el("td", { text: t("group." + u.role) }), el("td", { text: u.reason })]));
      });
      det.appendChild(tb);
      panel.appendChild(det);
    });
    if (st.unstaffed_posts.length) {
      panel.appendChild(el("h4", { text: t("staff.unstaffed") }));
      var tp = el("table", { class: "grid" });
      tp.appendChild(el("tr", {}, [t("left.site"), t("left.cell"), t("top.window"), t("staff.reason")].map(function (h) { return el("th", { text: h }); })));
      st.unstaffed_posts.forEach(function (u) {
        tp.appendChild(el("tr", {}, [el("td", { text: u.post_id }), el("td", { text: u.grid_id }), el("td", { text: u.duty }),
          el("td", { text: window.I18N.code(u.code) + ": " + u.reason })]));
      });
      panel.appendChild(tp);
    }
    var unc = Object.keys(st.uncovered || {});
    if (unc.length) {
      panel.appendChild(el("h4", { text: t("staff.uncovered") }));
      unc.forEach(function (c) { panel.appendChild(el("div", { text: c + ": " + st.uncovered[c] })); });
    }
  }
  function decisionLines() {
    var d = S.decisions, out = [];
    d.lock.forEach(function (g, i) { out.push([t("adj.lock", { g: g }), function () { d.lock.splice(i, 1); }]); });
    d.unavailable.forEach(function (g, i) { out.push([t("adj.off", { g: g }), function () { d.unavailable.splice(i, 1); }]); });
    d.drop.forEach(function (h, i) { out.push([t("adj.drop", { h: h }), function () { d.drop.splice(i, 1); }]); });
    d.add.forEach(function (a, i) { out.push([t("adj.addat", { p: a.lat.toFixed(5) + ", " + a.lon.toFixed(5) }), function () { d.add.splice(i, 1); }]); });
    d.pins.forEach(function (p, i) { out.push([t("adj.pin", { g: p.group_id, s: p.site_id, t: p.at.slice(11, 16) }), function () { d.pins.splice(i, 1); }]); });
    d.moves.forEach(function (m, i) { out.push([t("adj.move", { p: m.person_id, g: m.to_group }), function () { d.moves.splice(i, 1); }]); });
    return out;
  }
  function renderAdjust() {
    var panel = $("panel-adjust");
    panel.innerHTML = "";
    if (!may("plans:write")) { panel.appendChild(el("p", { class: "hint", text: t("adj.planner") })); return; }
    panel.appendChild(el("p", { class: "hint", text: t("adj.help") }));
    panel.appendChild(el("h4", { text: t("adj.pending") }));
    var lines = decisionLines();
    var ul = el("ul", { id: "decisions" });
    if (!lines.length) { ul.appendChild(el("li", { class: "hint", text: t("adj.none") })); }
    lines.forEach(function (line) {
      ul.appendChild(el("li", {}, [line[0] + " ", el("button", { text: "×", onclick: function () { line[1](); render(); } })]));
    });
    panel.appendChild(ul);
    var note = el("input", { id: "adj-note", type: "text", maxlength: "1000", placeholder: t("adj.note"), style: "width:100%" });
    panel.appendChild(note);
    panel.appendChild(el("div", { class: "row", style: "margin-top:6px" }, [
      el("button", { id: "adj-add", text: t("adj.add"), onclick: function () { S.addMode = true; $("map").style.cursor = "crosshair"; setJob(null, t("adj.addclick")); } }),
      el("button", { text: t("adj.clear"), onclick: function () { S.decisions = emptyDecisions(); render(); } }),
      el("button", { id: "adj-resolve", class: "primary", text: t("adj.resolve"), disabled: lines.length ? null : "disabled", onclick: resolve })
    ]));
    if (S.lastChanges) { panel.appendChild(changesTable(S.lastChanges)); }
  }
  function changesTable(ch) {
    var box = el("div", { class: "changes", id: "changes" });
    box.appendChild(el("h4", { text: t("adj.changed") + " (" + (ch.cells || []).join(", ") + ")" }));
    var m = ch.metrics || {};
    box.appendChild(el("p", { text: t("cmp.value") + " " + num(m.value_before, 3) + " → " + num(m.value_after, 3) + " · " +
      t("cmp.coverage") + " " + pct(m.coverage_before) + " → " + pct(m.coverage_after) + " · " + t("sum.left") + " " + m.left_out_before + " → " + m.left_out_after }));
    var table = el("table", { class: "grid" });
    table.appendChild(el("tr", {}, [t("adj.group"), t("adj.status"), t("adj.stops"), t("adj.before"), t("adj.after")].map(function (h) { return el("th", { text: h }); })));
    (ch.groups || []).forEach(function (g) {
      table.appendChild(el("tr", { "data-change": g.group, title: g.before + "\n→ " + g.after }, [
        el("td", { text: g.group }), el("td", { text: t("status." + g.status) }),
        el("td", { class: "num" + (g.changed_stops ? " changed" : ""), text: String(g.changed_stops) }),
        el("td", { class: "num", text: num(g.value_before, 3) }), el("td", { class: "num", text: num(g.value_after, 3) })
      ]));
    });
    box.appendChild(table);
    return box;
  }
  function resolve() {
    var d = S.decisions;
    var body = { window: S.win, lock: d.lock, unavailable: d.unavailable, drop: d.drop, add: d.add, pins: d.pins, moves: d.moves,
                 note: ($("adj-note") || {}).value || "" };
    var from = S.planId;
    api("/plans/" + from + "/adjust", { method: "POST", json: body }).then(function (job) {
      watchJob(job.id, function (done) {
        var planId = done.result && done.result.plan_id;
        S.decisions = emptyDecisions();
        loadPlans(false).then(function () {
          return fillPlans(planId);
        }).then(function () {
          return api("/plans/" + planId + "/versions");
        }).then(function (versions) {
          var last = versions.items.filter(function (v) { return v.plan_id === planId; })[0];
          S.lastChanges = last ? last.changes : null;
          renderAdjust(); showTab("adjust");
          renderHistory(versions);
        }).catch(fail);
      });
    }).catch(fail);
  }
  function loadHistory() {
    if (!S.planId) { return; }
    var id = S.planId;
    api("/plans/" + id + "/versions").then(function (versions) {
      if (id === S.planId) { renderHistory(versions); }
    }).catch(fail);
  }
  function renderHistory(versions) {
    var panel = $("panel-history");
    panel.innerHTML = "";
    var table = el("table", { class: "grid", id: "history-table" });
    table.appendChild(el("tr", {}, [t("hist.version"), t("hist.who"), t("hist.when"), t("hist.what"), ""].map(function (h) { return el("th", { text: h }); })));
    versions.items.forEach(function (v) {
      var what = v.version === 0 ? t("hist.first") : describe(v.edits || {}) + (v.changes && v.changes.metrics ? " · Δ " + v.changes.metrics.changed_stops : "");
      var open = v.plan_id === S.planId ? el("span", { text: t("hist.current") })
        : el("button", { text: t("hist.open"), onclick: function () { fillPlans(v.plan_id); } });
      table.appendChild(el("tr", {}, [el("td", { text: "v" + v.version }), el("td", { text: v.created_by || "" }),
        el("td", { text: (v.created_at || "").replace("T", " ").slice(0, 19) }), el("td", { text: what }), el("td", {}, [open])]));
    });
    panel.appendChild(table);
  }
  function describe(e) {
    var parts = [];
    if (e.window) { parts.push(e.window); }
    (e.lock || []).forEach(function (g) { parts.push(t("adj.lock", { g: g })); });
    (e.unavailable || []).forEach(function (g) { parts.push(t("adj.off", { g: g })); });
    (e.drop || []).forEach(function (h) { parts.push(t("adj.drop", { h: h })); });
    (e.add || []).forEach(function (a) { parts.push(t("adj.addat", { p: a.lat + ", " + a.lon })); });
    (e.pins || []).forEach(function (p) { parts.push(t("adj.pin", { g: p.group_id, s: p.site_id, t: String(p.at).slice(11, 16) })); });
    (e.moves || []).forEach(function (m) { parts.push(t("adj.move", { p: m.person_id, g: m.to_group })); });
    if (e.note) { parts.push("“" + e.note + "”"); }
    return parts.join("; ");
  }
  function fillCompare() {
    var panel = $("panel-compare");
    panel.innerHTML = "";
    var sel = el("select", { id: "compare-with" });
    S.plans.filter(function (p) { return p.id !== S.planId; }).forEach(function (p) {
      sel.appendChild(el("option", { value: p.id, text: p.date + " " + planLabel(p) }));
    });
    panel.appendChild(el("label", {}, [t("cmp.with") + " ", sel]));
    panel.appendChild(el("button", { id: "compare-go", text: t("cmp.go"), onclick: function () {
      if (!sel.value) { return; }
      api("/plans/" + S.planId + "/compare?with=" + encodeURIComponent(sel.value)).then(function (c) {
        var old = $("compare-table"); if (old) { old.remove(); }
        var table = el("table", { class: "grid", id: "compare-table" });
        table.appendChild(el("tr", {}, [t("cmp.window"), t("cmp.value"), t("cmp.coverage"), t("cmp.groups"), t("cmp.km"), t("cmp.overlap")].map(function (h) { return el("th", { text: h }); })));
        c.rows.forEach(function (r) {
          table.appendChild(el("tr", {}, [
            el("td", { text: r.window }),
            el("td", { class: "num", text: num(r.a.value_covered, 3) + " / " + num(r.b.value_covered, 3) }),
            el("td", { class: "num", text: pct(r.a.coverage) + " / " + pct(r.b.coverage) }),
            el("td", { class: "num", text: r.a.groups + " / " + r.b.groups }),
            el("td", { class: "num", text: num(r.a.km) + " / " + num(r.b.km) }),
            el("td", { class: "num", text: pct(r.overlap.overlap) })
          ]));
        });
        panel.appendChild(table);
        panel.appendChild(el("p", { class: "hint", text: t("cmp.this") + " / " + t("cmp.other") }));
      }).catch(fail);
    } }));
  }
  function renderMetrics() {
    var w = win();
    if (!w) { $("metrics").textContent = ""; return; }
    var shown = routesInView();
    var visits = 0, km = 0;
    shown.forEach(function (r) { km += r.km; r.stops.forEach(function (s) { if (s.kind === "hotspot" || s.kind === "post") { visits += 1; } }); });
    var rows = S.view.summary.filter(function (r) { return r.window === S.win && r.cell === (S.f2 || S.f1 || S.district) ; });
    var cov = rows.length ? rows[0].coverage : (w.metrics.coverage || 0);
    $("metrics").textContent = S.view.district + " " + S.view.date + " " + S.win + " — " +
      t("metrics.line", { groups: shown.length, visits: visits, coverage: pct(cov), km: num(km), left: w.left_out.filter(inFilter).length }) +
      " · " + (S.view.timezone_label ? t("metrics.tz", { tz: S.view.timezone_label }) : t("metrics.notz"));
  }

  /* ---------------------------------------------------------------- timeline */
  function drawTimeline() {
    var box = $("timeline");
    var w = win();
    if (!w) { box.innerHTML = ""; return; }
    var shown = routesInView();
    var t0 = minutes(w.start), t1 = minutes(w.end);
    var labelW = 170, rowH = 20, top = 22;
    var width = Math.max(600, box.clientWidth - 4);
    var scale = (width - labelW - 10) / Math.max(1, t1 - t0);
    var height = top + rowH * shown.length + 30;
    var x = function (m) { return labelW + (m - t0) * scale; };
    var parts = ['<svg xmlns="http://www.w3.org/2000/svg" id="timeline-svg" width="' + width + '" height="' + height + '">'];
    for (var h = Math.ceil(t0 / 60) * 60; h <= t1; h += 60) {
      var hh = ("0" + (Math.floor(h / 60) % 24)).slice(-2) + ":00";
      parts.push('<line x1="' + x(h) + '" x2="' + x(h) + '" y1="' + (top - 6) + '" y2="' + (height - 28) + '" stroke="#dde"/>');
      parts.push('<text x="' + x(h) + '" y="' + (top - 9) + '" font-size="11" text-anchor="middle" fill="#556">' + hh + "</text>");
    }
    shown.forEach(function (r, i) {
      var y = top + i * rowH;
      var off = has(S.decisions.unavailable, r.id);
      var sel = S.selected === r.id;
      parts.push('<g class="tl-row" data-group="' + esc(r.id) + '" opacity="' + (off ? 0.35 : 1) + '">');
      if (sel) { parts.push('<rect x="0" y="' + y + '" width="' + width + '" height="' + rowH + '" fill="#e8efff"/>'); }
      parts.push('<rect x="4" y="' + (y + 5) + '" width="10" height="10" fill="' + r.colour + '"/>');
      parts.push('<text x="18" y="' + (y + 14) + '" font-size="11">' + esc(r.id.length > 24 ? "…" + r.id.slice(-23) : r.id) +
        (has(S.decisions.lock, r.id) ? " 🔒" : "") + "</text>");
      for (var k = 1; k < r.stops.length; k++) {
        var a = r.stops[k - 1], s = r.stops[k];
        var dep = minutes(a.departure), arr = minutes(s.arrival), leave = minutes(s.departure);
        var begin = arr + (s.wait || 0);
        if (arr > dep) {
          parts.push('<rect x="' + x(dep) + '" y="' + (y + 8) + '" width="' + Math.max(0.5, (arr - dep) * scale) + '" height="4" fill="#9aa3b5"><title>' +
            esc(t("tl.travel") + " " + a.dep + "–" + s.arr) + "</title></rect>");
        }
        if (s.wait > 0) {
          parts.push('<rect x="' + x(arr) + '" y="' + (y + 5) + '" width="' + Math.max(0.5, s.wait * scale) + '" height="10" fill="none" stroke="' + r.colour + '" stroke-dasharray="2 2"><title>' +
            esc(t("tl.wait") + " " + num(s.wait, 0) + " " + t("min")) + "</title></rect>");
        }
        if (s.kind === "hotspot" || s.kind === "post") {
          var wpx = Math.max(1, (leave - begin) * scale);
          parts.push('<rect x="' + x(begin) + '" y="' + (y + 3) + '" width="' + wpx + '" height="14" rx="2" fill="' + (s.kind === "post" ? "#b00020" : r.colour) + '"><title>' +
            esc("#" + s.n + " " + window.I18N.place(s.name) + " " + s.arr + "–" + s.dep + " · " + window.I18N.purpose(s.purpose)) + "</title></rect>");
          if (wpx >= 13) {
            parts.push('<text x="' + (x(begin) + wpx / 2) + '" y="' + (y + 14) + '" font-size="10" fill="white" text-anchor="middle" pointer-events="none">' + s.n + "</text>");
          }
        }
      }
      parts.push("</g>");
    });
    var ly = height - 12;
    parts.push('<rect x="' + labelW + '" y="' + (ly - 8) + '" width="18" height="4" fill="#9aa3b5"/><text x="' + (labelW + 22) + '" y="' + ly + '" font-size="11">' + esc(t("tl.travel")) + "</text>");
    parts.push('<rect x="' + (labelW + 90) + '" y="' + (ly - 10) + '" width="18" height="10" fill="none" stroke="#555" stroke-dasharray="2 2"/><text x="' + (labelW + 112) + '" y="' + ly + '" font-size="11">' + esc(t("tl.wait")) + "</text>");
    parts.push('<rect x="' + (labelW + 250) + '" y="' + (ly - 10) + '" width="18" height="10" fill="#1f77b4"/><text x="' + (labelW + 272) + '" y="' + ly + '" font-size="11">' + esc(t("tl.dwell")) + "</text>");
    parts.push('<rect x="' + (labelW + 330) + '" y="' + (ly - 10) + '" width="18" height="10" fill="#b00020"/><text x="' + (labelW + 352) + '" y="' + ly + '" font-size="11">' + esc(t("tl.post")) + "</text>");
    parts.push("</svg>");
    box.innerHTML = parts.join("");
    box.querySelectorAll(".tl-row").forEach(function (g) {
      g.addEventListener("click", function () { select(g.getAttribute("data-group")); });
    });
  }

  /* ---------------------------------------------------------------- jobs */
  function setJob(progress, text) {
    $("job").hidden = progress === null && !text;
    $("job-bar").hidden = progress === null;
    if (progress !== null) { $("job-bar").value = progress; }
    $("job-text").textContent = text || "";
  }
  function watchJob(id, done) {
    if (S.jobTimer) { window.clearTimeout(S.jobTimer); }
    var poll = function () {
      api("/jobs/" + id).then(function (job) {
        var pc = Math.round(100 * job.progress);
        if (job.status === "done") { setJob(1, t("job.done")); done(job); return; }
        if (job.status === "failed") {
          var e = job.error || {};
          setJob(null, t("job.failed", { msg: e.message || e.detail || JSON.stringify(e) }));
          return;
        }
        setJob(job.progress, t("job." + job.status) + " " + pc + "% " + (job.message || ""));
        S.jobTimer = window.setTimeout(poll, 700);
      }).catch(fail);
    };
    setJob(0, t("job.queued"));
    poll();
  }
  function requestPlan(ev) {
    ev.preventDefault();
    var windows = Array.prototype.slice.call(document.querySelectorAll('input[name="np-window"]:checked')).map(function (c) { return c.value; });
    var body = { district: S.district, date: $("np-date").value, windows: windows,
                 grid_level: +$("np-level").value || null, time_limit_s: +$("np-budget").value || 0.5, seed: +$("np-seed").value || 0 };
    api("/plans", { method: "POST", json: body }).then(function (job) {
      $("newplan").hidden = true;
      $("date").value = body.date;
      watchJob(job.id, function (done) {
        loadPlans(false).then(function () { return fillPlans(done.result.plan_id); }).catch(fail);
      });
    }).catch(function (err) { $("np-error").textContent = err.message; });
  }

  function importDistrict(ev) {
    ev.preventDefault();
    var form = new FormData($("import-form"));
    ["auto_grids", "timezone"].forEach(function (k) { if (!form.get(k)) { form.delete(k); } });
    if (!$("imp-grids").files.length) { form.delete("grids"); }
    var name = form.get("name");
    api("/districts/import/upload", { method: "POST", body: form }).then(function (job) {
      $("importer").hidden = true;
      watchJob(job.id, function () {
        location.hash = "district=" + encodeURIComponent(name);
        start().catch(fail);
      });
    }).catch(function (err) { $("imp-error").textContent = err.message; });
  }

  /* ---------------------------------------------------------------- print */
  function sheetQuery(what) {
    var q = new URLSearchParams();
    q.set("window", S.win); q.set("lang", window.I18N.lang);
    (what.group || []).forEach(function (g) { q.append("group", g); });
    (what.cell || []).forEach(function (c) { q.append("cell", c); });
    return q.toString();
  }
  function printSheets(what) {
    S.printing = what;
    api("/plans/" + S.planId + "/sheets?" + sheetQuery(what), { raw: true }).then(function (res) { return res.text(); }).then(function (html) {
      $("print").hidden = false;
      $("print-frame").srcdoc = html;
    }).catch(fail);
  }
  function downloadPdf() {
    api("/plans/" + S.planId + "/sheets.pdf?" + sheetQuery(S.printing), { raw: true }).then(function (res) { return res.blob(); }).then(function (blob) {
      var a = el("a", { href: URL.createObjectURL(blob), download: "sheets-" + S.win.replace(/[:]/g, "") + ".pdf" });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(fail);
  }

  /* ---------------------------------------------------------------- statistics */
  function statsMonth() {
    var m = $("stats-month").value || ($("date").value || new Date().toISOString()).slice(0, 7);
    $("stats-month").value = m;
    return m;
  }
  function showStats() {
    if (!S.district) { return; }
    var m = statsMonth(), first = m + "-01";
    var last = new Date(Date.UTC(+m.slice(0, 4), +m.slice(5, 7), 0)).toISOString().slice(0, 10);
    var q = new URLSearchParams({ district: S.district, from: first, to: last, period: "month", by: $("stats-by").value });
    api("/statistics?" + q.toString()).then(function (res) {
      var words = res.labels[window.I18N.lang] || res.labels.en;
      // one row per figure and one column per team or cell: the side panel is narrow, and a
      // column per figure squeezed its headings to a character a line
      var figures = ["patrol_groups", "person_times", "officer_times", "volunteer_times", "patrol_hours", "posts_staffed", "posts_planned",
        "hazards_found", "hazards_fixed", "clues", "incidents_near_patrol", "incidents_in_windows", "incidents"];
      var head = el("tr", {}, [el("th", { text: words.unit || "" })].concat(res.items.map(function (r) {
        return el("th", { class: "num", text: words[r.unit] || r.unit });
      })));
      var rows = figures.map(function (f) {
        return el("tr", { "data-figure": f }, [el("th", { text: words[f] || f })].concat(res.items.map(function (r) {
          var v = r[f];
          return el("td", { class: "num", text: v === null || v === undefined ? "" : String(Math.round(v * 10) / 10) });
        })));
      });
      var box = $("stats-table"); box.innerHTML = "";
      if (!res.items.length) { box.appendChild(el("p", { class: "hint", text: t("stats.none") })); return; }
      box.appendChild(el("table", { class: "grid stats" }, [el("thead", {}, [head]), el("tbody", {}, rows)]));
    }).catch(fail);
  }
  function downloadReport(format) {
    var m = statsMonth();
    var q = new URLSearchParams({ district: S.district, month: m, lang: window.I18N.lang, format: format });
    api("/statistics/report?" + q.toString(), { raw: true }).then(function (res) { return res.blob(); }).then(function (blob) {
      var a = el("a", { href: URL.createObjectURL(blob), download: S.district + "-" + m + "." + format });
      document.body.appendChild(a); a.click(); a.remove();
    }).catch(fail);
  }

  /* ---------------------------------------------------------------- wiring */
  function setFilter(f1, f2) {
    S.f1 = f1 || ""; $("f1").value = S.f1; fillF2(); S.f2 = f2 || ""; $("f2").value = S.f2; S.selected = null;
    render(true); declutter();
  }
  function wire() {
    window.I18N.apply();
    document.querySelectorAll(".lang-toggle").forEach(function (b) {
      b.addEventListener("click", function () { window.I18N.set(window.I18N.lang === "zh" ? "en" : "zh"); fillFilters(); render(); fillCompare(); loadHistory();
        if ($("stats-table").firstChild) { showStats(); } });
    });
    $("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      $("signin-error").textContent = "";
      signIn($("signin-key").value.trim()).catch(function (err) { $("signin-error").textContent = t("signin.bad", { msg: err.message }); });
    });
    $("signout").addEventListener("click", signOut);
    $("district").addEventListener("change", function () { $("date").value = ""; openDistrict($("district").value).catch(fail); });
    $("date").addEventListener("change", function () { fillPlans().catch(fail); });
    $("plan").addEventListener("change", function () { if ($("plan").value) { openPlan($("plan").value).catch(fail); } });
    $("window").addEventListener("change", function () { S.win = $("window").value; S.selected = null; S.decisions = emptyDecisions(); S.lastChanges = null; render(true); });
    $("f1").addEventListener("change", function () { setFilter($("f1").value, ""); });
    $("f2").addEventListener("change", function () { setFilter(S.f1 || (S.cellById[$("f2").value] || {}).parent || "", $("f2").value); });
    document.querySelectorAll("#tabs button").forEach(function (b) { b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); }); });
    $("new-plan").addEventListener("click", function () {
      $("np-date").value = $("date").value || new Date().toISOString().slice(0, 10);
      var lv = $("np-level"); lv.innerHTML = "";
      (S.levels || [1, 2]).forEach(function (l) { lv.appendChild(el("option", { value: l, text: String(l) })); });
      lv.value = String(Math.min(2, Math.max.apply(null, S.levels || [2])));
      $("np-error").textContent = "";
      $("newplan").hidden = false;
    });
    $("np-cancel").addEventListener("click", function () { $("newplan").hidden = true; });
    $("import").addEventListener("click", function () { $("imp-error").textContent = ""; $("importer").hidden = false; });
    $("imp-cancel").addEventListener("click", function () { $("importer").hidden = true; });
    $("import-form").addEventListener("submit", importDistrict);
    $("newplan-form").addEventListener("submit", requestPlan);
    $("print-close").addEventListener("click", function () { $("print").hidden = true; });
    $("print-go").addEventListener("click", function () { $("print-frame").contentWindow.print(); });
    $("print-pdf").addEventListener("click", downloadPdf);
    $("stats-show").addEventListener("click", showStats);
    $("stats-pdf").addEventListener("click", function () { downloadReport("pdf"); });
    $("stats-xlsx").addEventListener("click", function () { downloadReport("xlsx"); });
    window.addEventListener("resize", function () { drawTimeline(); });
    var key = null;
    try { key = window.sessionStorage.getItem(KEY); } catch (e) { key = null; }
    if (key) { signIn(key).catch(signOut); } else { signOut(); }
  }
  wire();
})();

// The plan's interactive map: the district's own streets, cells, routes with numbered stops.
// Data comes from the JSON block "plan-data" written by optimizer/outputs/html_map.py; nothing
// is loaded from the network. State (window, cell) can be set in the URL: #window=1&cell=G1-03.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("plan-data").textContent);

  function pairs(flat) {
    var out = [];
    for (var i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
    return out;
  }
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var map = L.map("map", { preferCanvas: true, zoomSnap: 0.25, minZoom: 10, maxZoom: 20 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("streets © OpenStreetMap contributors");
  L.control.scale({ metric: true, imperial: false, maxWidth: 160 }).addTo(map);
  var canvas = L.canvas({ padding: 0.3 });

  // Basemap: streets by road class (minor, medium, major), not interactive.
  var streetStyle = [["#d9d9d9", 1], ["#c4c4c4", 1.6], ["#b0b0b0", 2.4]];
  D.streets.forEach(function (lines, k) {
    if (!lines.length) return;
    L.polyline(lines.map(pairs), {
      color: streetStyle[k][0], weight: streetStyle[k][1], renderer: canvas, interactive: false,
    }).addTo(map);
  });

  // Cells: outlines by level; level-2 labels always, level-3 labels when zoomed in.
  var cellStyle = { 1: ["#222", 3, null], 2: ["#555", 2, null], 3: ["#888", 1, "4 3"] };
  var cellsById = {};
  var l3Labels = L.layerGroup();
  D.cells.forEach(function (c) {
    var st = cellStyle[c.level] || cellStyle[3];
    var poly = L.polygon(c.rings.map(pairs), {
      color: st[0], weight: st[1], dashArray: st[2], fill: false, interactive: false, renderer: canvas,
    }).addTo(map);
    cellsById[c.id] = { cell: c, bounds: poly.getBounds() };
    if (c.level >= 2 && c.label) {
      var tip = L.tooltip({
        permanent: true, direction: "center", className: "cell-label" + (c.level >= 3 ? " l3" : ""),
      }).setLatLng(c.label).setContent(esc(c.id));
      if (c.level === 2) tip.addTo(map); else l3Labels.addLayer(tip);
    }
  });
  function showL3() {
    if (map.getZoom() >= 14.5) l3Labels.addTo(map); else l3Labels.remove();
  }
  map.on("zoomend", function () {
    showL3();
    if (detailShown !== null && detail() !== detailShown) draw(false);
  });

  // Controls.
  var state = { window: 0, cell: "", hidden: {}, showLeft: true };
  var fromHash = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var p = kv.split("=");
    if (p[0]) fromHash[decodeURIComponent(p[0])] = decodeURIComponent(p[1] || "");
  });
  if (fromHash.window && D.windows[+fromHash.window]) state.window = +fromHash.window;
  if (fromHash.cell && cellsById[fromHash.cell]) state.cell = fromHash.cell;

  document.getElementById("title").textContent = D.title;
  document.getElementById("tz").textContent = D.timezone_note;
  var wbox = document.getElementById("windows");
  D.windows.forEach(function (w, i) {
    var label = document.createElement("label");
    label.innerHTML = '<input type="radio" name="window" value="' + i + '"> ' + esc(w.label);
    label.firstChild.checked = i === state.window;
    label.firstChild.addEventListener("change", function () { state.window = i; state.hidden = {}; draw(true); });
    wbox.appendChild(label);
  });
  var select = document.getElementById("cell");
  var optAll = document.createElement("option");
  optAll.value = ""; optAll.textContent = "whole district";
  select.appendChild(optAll);
  D.cells.filter(function (c) { return c.level <= 2; }).forEach(function (c) {
    var o = document.createElement("option");
    o.value = c.id;
    o.textContent = (c.level === 2 ? "\u00a0\u00a0\u00a0" : "") + c.id + (c.name ? " — " + c.name : "");
    select.appendChild(o);
  });
  select.value = state.cell;
  select.addEventListener("change", function () { state.cell = select.value; draw(true); });
  document.getElementById("show-left").addEventListener("change", function (e) {
    state.showLeft = e.target.checked; draw(false);
  });
  document.getElementById("all-on").addEventListener("click", function () { state.hidden = {}; draw(false); });
  document.getElementById("all-off").addEventListener("click", function () {
    visibleRoutes().forEach(function (r) { state.hidden[r.id] = true; }); draw(false);
  });

  function inCell(grid, chain) {
    return !state.cell || chain.indexOf(state.cell) >= 0 || grid === state.cell;
  }
  function visibleRoutes() {
    return D.windows[state.window].routes.filter(function (r) { return inCell(r.grid, r.cells); });
  }

  var overlay = L.layerGroup().addTo(map);
  // Numbered stops from this zoom on (an area); below it, stops are dots (the whole district).
  var DETAIL_ZOOM = 14.5;
  var detailShown = null;
  function detail() { return map.getZoom() >= DETAIL_ZOOM; }

  // Many groups in view (a whole district): colour routes by level-2 cell, as the PNG overview;
  // a cell's groups: each in its own colour, as the PNG area maps.
  var byArea = false;
  function colourOf(r) { return byArea ? r.area_colour : r.colour; }

  function stopPopup(r, s) {
    var wait = s.wait >= 1 ? " (waits " + Math.round(s.wait) + " min)" : "";
    return "<b>" + esc(r.id) + "</b> · stop " + s.n + "<br>" + esc(s.name) +
      "<table><tr><td>arrive</td><td>" + s.arr + wait + "</td></tr>" +
      "<tr><td>leave</td><td>" + s.dep + "</td></tr>" +
      "<tr><td>duty</td><td>" + esc(s.purpose) + "</td></tr></table>" +
      '<span class="note">' + esc(D.timezone_note) + "</span>";
  }

  function draw(fit) {
    if (fit) {
      var target = state.cell ? cellsById[state.cell].bounds : D.bounds;
      map.fitBounds(target, { padding: [10, 10] });
    }
    detailShown = detail();
    overlay.clearLayers();
    if (state.cell) {
      overlay.addLayer(L.polygon(cellsById[state.cell].cell.rings.map(pairs), {
        color: "#000", weight: 4, opacity: 0.7, fill: false, interactive: false,
      }));
    }
    var w = D.windows[state.window];
    var routes = visibleRoutes();
    byArea = routes.length > D.palette_size && (!state.cell || cellsById[state.cell].cell.level < 2);
    var stops = 0;
    // Hotspots (served, then left out) under the routes.
    w.hotspots.forEach(function (h) {
      if (!inCell(h.grid, h.cells)) return;
      if (h.out && !state.showLeft) return;
      var radius = 3 + 13 * Math.sqrt(h.v / (w.vmax || 1));
      var m = h.out
        ? L.circleMarker([h.lat, h.lon], { radius: radius, color: "#4d0000", weight: 1.5, dashArray: "3 3", fill: false })
        : L.circleMarker([h.lat, h.lon], { radius: radius, color: "#e34a33", weight: 1, fillColor: "#e34a33", fillOpacity: 0.3 });
      m.bindPopup("<b>hotspot " + esc(h.id) + "</b><br>" + esc(h.label) + "<br>value " + h.v.toFixed(4) +
        (h.out ? "<br><b>left out</b>: " + esc(h.out) : ""));
      overlay.addLayer(m);
    });
    if (state.showLeft) {
      w.posts_left_out.forEach(function (p) {
        if (!inCell(p.grid, p.cells)) return;
        overlay.addLayer(L.marker([p.lat, p.lon], {
          icon: L.divIcon({ className: "plain", html: '<span style="color:#4d0000;font-size:18px">☆</span>', iconSize: [18, 18] }),
        }).bindPopup("<b>post " + esc(p.name) + "</b> left out: " + esc(p.reason)));
      });
    }
    var ends = {};
    routes.forEach(function (r) {
      if (state.hidden[r.id]) return;
      var line = L.polyline(pairs(r.path), {
        color: colourOf(r), weight: byArea ? 2.5 : 4, opacity: 0.9,
        dashArray: r.dashed && !byArea ? (r.line === "dotted" ? "2 4" : "10 5") : null,
      }).bindTooltip(esc(r.id) + " (" + esc(r.mode) + ")", { sticky: true });
      overlay.addLayer(line);
      // Numbered stops, merged where a group comes back to the same place.
      var at = {};
      r.stops.forEach(function (s) {
        if (s.kind === "start" || s.kind === "end") {
          var key = s.lat.toFixed(4) + "," + s.lon.toFixed(4);
          var e = ends[key] || (ends[key] = { lat: s.lat, lon: s.lon, tags: {}, text: [] });
          e.tags[s.kind === "start" ? "S" : "E"] = true;
          e.text.push(esc(r.id) + " " + s.kind + " " + s.arr + " · " + esc(s.name));
          return;
        }
        var k = s.lat.toFixed(5) + "," + s.lon.toFixed(5);
        (at[k] = at[k] || []).push(s);
      });
      Object.keys(at).forEach(function (k) {
        var list = at[k];
        stops += list.length;
        if (!detailShown) {
          overlay.addLayer(L.circleMarker([list[0].lat, list[0].lon], {
            radius: 3, color: "#fff", weight: 1, fillColor: colourOf(r), fillOpacity: 1,
          }).bindPopup(list.map(function (s) { return stopPopup(r, s); }).join("<hr>")));
          return;
        }
        var post = list.some(function (s) { return s.kind === "post"; });
        var nums = list.map(function (s) { return s.n; }).join(",");
        var icon = L.divIcon({
          className: "plain",
          html: '<span class="stop' + (post ? " post" : "") + '" style="background:' + colourOf(r) + '">' + nums + "</span>",
          iconSize: null, iconAnchor: [8, 8],
        });
        var m = L.marker([list[0].lat, list[0].lon], { icon: icon, title: r.id + ": " + nums });
        m.bindPopup(list.map(function (s) { return stopPopup(r, s); }).join("<hr>"));
        overlay.addLayer(m);
      });
    });
    Object.keys(ends).forEach(function (k) {
      var e = ends[k];
      var text = e.tags.S && e.tags.E ? "S/E" : e.tags.S ? "S" : "E";
      overlay.addLayer(L.marker([e.lat, e.lon], {
        icon: L.divIcon({ className: "plain", html: '<span class="ends">' + text + "</span>", iconSize: null, iconAnchor: [10, 8] }),
        zIndexOffset: 1000,
      }).bindPopup(e.text.join("<br>")));
    });
    listGroups(routes);
    var shown = routes.filter(function (r) { return !state.hidden[r.id]; }).length;
    document.getElementById("counts").textContent =
      shown + " of " + routes.length + " groups shown · " + stops + " stops · " + w.label +
      (byArea ? " · coloured by level-2 cell; choose a cell for a colour per group" : "") +
      (detailShown ? "" : " · zoom in for stop numbers");
    document.body.setAttribute("data-routes", String(shown));
    document.body.setAttribute("data-stops", String(stops));
    document.body.setAttribute("data-numbered", detailShown ? "1" : "0");
    document.body.setAttribute("data-ready", "1");
  }

  function listGroups(routes) {
    var ol = document.getElementById("groups");
    ol.innerHTML = "";
    var area = null;
    routes.forEach(function (r) {
      if (r.area !== area) {
        area = r.area;
        var head = document.createElement("li");
        head.className = "area";
        head.textContent = area;
        ol.appendChild(head);
      }
      var li = document.createElement("li");
      li.className = state.hidden[r.id] ? "off" : "";
      var c = colourOf(r);
      li.innerHTML = '<span class="swatch" style="background:' + c +
        (r.dashed && !byArea ? ";background:repeating-linear-gradient(90deg," + c + " 0 6px,transparent 6px 9px)" : "") +
        '"></span><span><b>' + esc(r.id) + "</b> " + esc(r.mode) + " · " + esc(r.grid) + "<br>" +
        r.visits + " stops · " + r.km.toFixed(1) + " km · " + r.start + "–" + r.end +
        (r.people ? "<br>" + esc(r.people) : "") + "</span>";
      li.title = "click: show or hide; double-click: zoom to the route";
      li.addEventListener("click", function () {
        if (state.hidden[r.id]) delete state.hidden[r.id]; else state.hidden[r.id] = true;
        draw(false);
      });
      li.addEventListener("dblclick", function () {
        delete state.hidden[r.id];
        draw(false);
        map.fitBounds(L.polyline(pairs(r.path)).getBounds(), { padding: [30, 30] });
      });
      ol.appendChild(li);
    });
  }

  draw(true);
  showL3();
})();

// The trace report: step through the hops of a trace. Data: #data (JSON written by
// hopsim). Test hooks in the URL fragment: step=N (open hop N, 1-based), keys=K1,K2
// (keys pressed after loading), click=N (click hop N in the list).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var hops = data.hops;
  var stepsByHop = hops.map(function () { return []; });
  data.steps.forEach(function (s) { if (stepsByHop[s.hop]) { stepsByHop[s.hop].push(s); } });
  var current = 0;
  var animation = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function nsBox(name) {
    var k = data.nodes[name];
    return k === undefined ? null : document.getElementById("ns-" + k);
  }
  function center(box) {
    var r = box.querySelector("rect");
    return {
      x: Number(r.getAttribute("x")) + Number(r.getAttribute("width")) / 2,
      y: Number(r.getAttribute("y")) + Number(r.getAttribute("height")) / 2
    };
  }
  function edgeBetween(a, b) {
    var ka = data.nodes[a], kb = data.nodes[b];
    var lines = document.querySelectorAll("#topology .edge");
    for (var i = 0; i < lines.length; i++) {
      var x = lines[i].getAttribute("data-a"), y = lines[i].getAttribute("data-b");
      if ((x == ka && y == kb) || (x == kb && y == ka)) { return lines[i]; }
    }
    return null;
  }

  function buildList() {
    var list = document.getElementById("hops");
    hops.forEach(function (h, i) {
      var steps = stepsByHop[i];
      var first = steps.find(function (s) { return s.stage !== "receive"; }) || steps[0];
      var li = el("li", steps.some(function (s) { return s.drop; }) ? "drop" : "",
        h.node + ": " + (first ? first.sentence : ""));
      li.id = "hop-item-" + (i + 1);
      li.addEventListener("click", function () { go(i); });
      list.appendChild(li);
    });
    document.getElementById("output").textContent =
      "$ " + data.command + "\n" + data.output.join("\n") + "\n(exit " + data.exit + ")";
    document.querySelectorAll("#topology .ns").forEach(function (g) {
      g.addEventListener("click", function () {
        var name = g.getAttribute("data-ns");
        for (var k = 1; k <= hops.length; k++) {
          var j = (current + k) % hops.length;
          if (hops[j].node === name) { go(j); return; }
        }
      });
    });
  }

  function fieldsTable(p) {
    var t = el("table", "fields");
    p.fields.forEach(function (f) {
      var tr = el("tr", (f.was !== null || f.added) ? "changed" : "");
      tr.appendChild(el("td", "layer", f.layer));
      tr.appendChild(el("td", "name", f.name));
      tr.appendChild(el("td", "value", f.value));
      tr.appendChild(el("td", "was", f.was !== null ? "was " + f.was : (f.added ? "added" : "")));
      t.appendChild(tr);
    });
    return t;
  }

  function hexDump(p) {
    var box = el("div", "hex");
    var legend = el("div", "legend");
    p.layers.forEach(function (l, k) {
      legend.appendChild(el("span", "L" + (k % 6), l.name + " " + l.start + "-" + (l.end - 1)));
    });
    var n = p.hex.length / 2;
    for (var off = 0; off < n; off += 16) {
      var line = el("div");
      line.appendChild(el("span", "off", ("000" + off.toString(16)).slice(-4) + "  "));
      for (var i = off; i < Math.min(off + 16, n); i++) {
        var k = p.layers.findIndex(function (l) { return i >= l.start && i < l.end; });
        var b = el("span", k >= 0 ? "L" + (k % 6) : "", p.hex.substr(i * 2, 2));
        if (k >= 0) { b.title = p.layers[k].name; }
        line.appendChild(b);
        line.appendChild(document.createTextNode(i % 8 === 7 ? "  " : " "));
      }
      box.appendChild(line);
    }
    var wrap = el("div");
    wrap.appendChild(legend);
    wrap.appendChild(box);
    return wrap;
  }

  function renderHop() {
    var h = hops[current];
    var steps = stepsByHop[current];
    var hop = document.getElementById("hop");
    hop.innerHTML = "";
    hop.appendChild(el("h2", "", "Hop " + (current + 1) + " of " + hops.length + ": " + h.node +
      (h.from_hop !== null ? " (frame from hop " + (h.from_hop + 1) + ")" : "") +
      ", t=" + h.time_us + "us"));
    steps.forEach(function (s) {
      hop.appendChild(el("div", s.drop ? "step drop" : "step", s.sentence));
      if (s.table && s.stage !== "netfilter") {
        var t = el("div", "table");
        t.appendChild(el("div", "cmd", "$ " + s.table.command));
        t.appendChild(document.createTextNode(s.table.rows.join("\n")));
        hop.appendChild(t);
      }
    });
    var headers = document.getElementById("headers");
    headers.innerHTML = "";
    headers.setAttribute("data-hop", String(current + 1));
    headers.appendChild(el("h2", "", "Packets in hop " + (current + 1)));
    steps.forEach(function (s) {
      if (!s.packet) { return; }
      headers.appendChild(el("h3", "", s.label + (s.stage === "transmit" || s.stage === "receive" ? "" : "")));
      headers.appendChild(el("div", "summary", s.packet.summary));
      headers.appendChild(fieldsTable(s.packet));
      headers.appendChild(hexDump(s.packet));
    });
    var rules = document.getElementById("rules");
    rules.innerHTML = "";
    var nf = steps.filter(function (s) { return s.stage === "netfilter" && s.table; });
    rules.appendChild(el("h2", "", nf.length ? "iptables rules met in hop " + (current + 1) : "No iptables rules met in this hop"));
    nf.forEach(function (s) {
      rules.appendChild(el("div", "step", s.sentence));
      var t = el("div", "table");
      t.appendChild(el("div", "cmd", "$ " + s.table.command));
      s.table.rows.forEach(function (r) {
        t.appendChild(el("div", r.charAt(0) === "*" ? "matched" : "", r));
      });
      rules.appendChild(t);
    });
  }

  function renderDrawing() {
    document.querySelectorAll("#topology .ns").forEach(function (g) {
      g.classList.remove("visited", "current", "dropped");
    });
    document.querySelectorAll("#topology .edge").forEach(function (e) {
      e.classList.remove("used", "active");
    });
    for (var i = 0; i <= current; i++) {
      var box = nsBox(hops[i].node);
      if (box) {
        box.classList.add("visited");
        if (stepsByHop[i].some(function (s) { return s.drop; })) { box.classList.add("dropped"); }
      }
      if (hops[i].from_hop !== null) {
        var e = edgeBetween(hops[hops[i].from_hop].node, hops[i].node);
        if (e) { e.classList.add(i === current ? "active" : "used"); }
      }
    }
    var cur = nsBox(hops[current].node);
    if (cur) { cur.classList.add("current"); }
    animate();
  }

  function animate() {
    var dot = document.getElementById("packet");
    var h = hops[current];
    var to = nsBox(h.node);
    var from = h.from_hop !== null ? nsBox(hops[h.from_hop].node) : to;
    if (!to || !from) { return; }
    var a = center(from), b = center(to);
    if (animation) { cancelAnimationFrame(animation); }
    var start = null;
    function frame(t) {
      if (start === null) { start = t; }
      var k = Math.min(1, (t - start) / 600);
      dot.setAttribute("cx", String(a.x + (b.x - a.x) * k));
      dot.setAttribute("cy", String(a.y + (b.y - a.y) * k));
      animation = k < 1 ? requestAnimationFrame(frame) : null;
    }
    dot.setAttribute("cx", String(a.x));
    dot.setAttribute("cy", String(a.y));
    animation = requestAnimationFrame(frame);
  }

  function go(i) {
    if (hops.length === 0) { return; }
    current = Math.max(0, Math.min(hops.length - 1, i));
    document.querySelectorAll("#hops li").forEach(function (li, k) {
      li.classList.toggle("current", k === current);
    });
    var item = document.getElementById("hop-item-" + (current + 1));
    if (item && item.scrollIntoView) { item.scrollIntoView({ block: "nearest" }); }
    renderHop();
    renderDrawing();
  }

  document.addEventListener("keydown", function (e) {
    var keys = {
      ArrowRight: current + 1, ArrowDown: current + 1, " ": current + 1, j: current + 1,
      ArrowLeft: current - 1, ArrowUp: current - 1, k: current - 1,
      Home: 0, End: hops.length - 1
    };
    if (keys[e.key] !== undefined) {
      e.preventDefault();
      go(keys[e.key]);
    }
  });

  buildList();
  var params = {};
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var p = kv.split("=");
    if (p[0]) { params[p[0]] = decodeURIComponent(p[1] || ""); }
  });
  go(params.step ? Number(params.step) - 1 : 0);
  if (params.keys) {
    params.keys.split(",").forEach(function (k) {
      document.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true }));
    });
  }
  if (params.click) {
    var item = document.getElementById("hop-item-" + params.click);
    if (item) { item.click(); }
  }
})();

/* 数据看板: draws the charts from the page's own data (the tables beside them say the same), and
   drills through the regions with /dashboard/map.json (a few KB per level). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dash-data").textContent);
  var config = JSON.parse(document.getElementById("dash-config").textContent);
  var charts = [];
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var c = window.echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    charts.push(c);
    return c;
  }
  function bars(id, rows, nameIndex, valueIndex) {
    var top = rows.slice(0, 20);
    return chart(id, {
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", inverse: true, data: top.map(function (r) { return r[nameIndex]; }),
               axisLabel: { width: 110, overflow: "truncate" } },
      tooltip: {},
      series: [{ type: "bar", data: top.map(function (r) { return r[valueIndex]; }), itemStyle: { color: "#1f6feb" } }]
    });
  }
  var marks = data.deadlines.map(function (d) { return { xAxis: d.day, name: d.title }; });
  chart("chart-daily", {
    grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true },
    legend: { data: ["当日发布", "累计"] },
    tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: data.daily.map(function (r) { return r[0]; }) },
    yAxis: [{ type: "value" }, { type: "value" }],
    series: [
      { name: "当日发布", type: "bar", data: data.daily.map(function (r) { return r[1]; }),
        markLine: { symbol: "none", data: marks, label: { show: false }, lineStyle: { color: "#b35900" } } },
      { name: "累计", type: "line", yAxisIndex: 1, data: data.daily.map(function (r) { return r[2]; }) }
    ]
  });
  bars("chart-ja", data.joint_actions, 0, 1);
  bars("chart-brands", data.brands, 0, 2);

  var regionChart = null;
  var crumbs = document.getElementById("map-crumbs");
  var list = document.getElementById("map-list");
  function listUrl(code) {
    var p = code.slice(2) === "0000" ? "province" : (code.slice(4) === "00" ? "city" : "county");
    return config.list + "?" + p + "=" + code;
  }
  function drawMap(code, json, rows) {
    var key = code || "100000";
    var names = {};
    json.regions.forEach(function (r) { names[r[0]] = r[1]; });
    var max = rows.length ? Math.max(1, rows[0][2]) : 1;
    return fetch(config.geo + key + ".json")
      .then(function (r) { if (!r.ok) throw new Error("no geometry"); return r.json(); })
      .then(function (geo) {
        window.echarts.registerMap("k" + key, geo);
        var c = chart("chart-regions", {
          animation: false,
          tooltip: { formatter: function (p) { return (names[p.name] || "南海诸岛") + "：" + (isNaN(p.value) ? 0 : p.value); } },
          visualMap: { min: 0, max: max, left: 0, bottom: 0, itemHeight: 80, calculable: false,
                       inRange: { color: ["#eef3fb", "#1f6feb", "#0a3069"] }, text: ["多", "少"] },
          series: [{ type: "map", map: "k" + key, nameProperty: "code", roam: false, selectedMode: false,
                     label: { show: false }, emphasis: { label: { show: true, formatter: function (p) { return names[p.name] || ""; } } },
                     data: json.regions.map(function (r) { return { name: r[0], value: r[2] }; }) }]
        });
        if (c) c.on("click", function (p) {
          if (!names[p.name]) return;
          if (json.level < 3) show(p.name); else window.location.href = listUrl(p.name);
        });
        document.getElementById("chart-regions").dataset.drawn = key;  // tests wait for it
        return c;
      });
  }
  function show(code) {
    fetch(config.map + "?campaign=" + encodeURIComponent(config.campaign) + (code ? "&region=" + code : ""))
      .then(function (r) { return r.json(); })
      .then(function (json) {
        if (code) {
          var a = document.createElement("a"); a.href = "#"; a.dataset.region = code; a.textContent = json.parent_name;
          crumbs.appendChild(a);
        }
        var rows = json.regions.slice().sort(function (a, b) { return b[2] - a[2]; });
        var ul = document.createElement("ul");
        rows.forEach(function (r) {
          var li = document.createElement("li");
          var el;
          if (json.level < 3) {
            el = document.createElement("button"); el.type = "button"; el.dataset.region = r[0];
          } else {
            el = document.createElement("a"); el.href = listUrl(r[0]);
          }
          el.textContent = r[1] + "：" + r[2];
          li.appendChild(el); ul.appendChild(li);
        });
        if (code) {
          var all = document.createElement("li"); var link = document.createElement("a");
          link.href = listUrl(code); link.textContent = "查看" + json.parent_name + "的全部活动";
          all.appendChild(link); ul.appendChild(all);
        }
        list.replaceChildren(ul);
        if (regionChart) { charts.splice(charts.indexOf(regionChart), 1); regionChart.dispose(); regionChart = null; }
        if (!window.echarts) return;
        drawMap(code, json, rows).then(function (c) { regionChart = c; }, function () {
          // No boundaries for this level (e.g. Hong Kong's districts): the counts as bars.
          regionChart = bars("chart-regions", rows, 1, 2);
          if (regionChart) regionChart.on("click", function (p) {
            var row = rows[p.dataIndex];
            if (json.level < 3) show(row[0]); else window.location.href = listUrl(row[0]);
          });
        });
      });
  }
  list.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-region]");
    if (b) show(b.dataset.region);
  });
  crumbs.addEventListener("click", function (e) {
    var a = e.target.closest("a[data-region]");
    if (!a) return;
    e.preventDefault();
    while (a.nextSibling) crumbs.removeChild(a.nextSibling);
    var code = a.dataset.region;
    if (code) crumbs.removeChild(a);
    show(code);
  });
  show("");
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

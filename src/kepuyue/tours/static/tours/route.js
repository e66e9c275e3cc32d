/* A tour's route on the map: the dashboard's vendored ECharts and boundary files (static, no
   per-visitor data). The stops are in the page (tour-route JSON); the table beside says the same. */
(function () {
  "use strict";
  var el = document.getElementById("tour-map");
  var source = document.getElementById("tour-route");
  if (!el || !source || !window.echarts) return;
  var route = JSON.parse(source.textContent);
  if (!route.points.length) return;
  fetch(el.dataset.geo + route.map + ".json")
    .then(function (r) { if (!r.ok) throw new Error("no geometry"); return r.json(); })
    .then(function (geo) {
      window.echarts.registerMap("t" + route.map, geo);
      var coords = route.points.map(function (p) { return [p[0], p[1]]; });
      var legs = [];
      for (var i = 1; i < coords.length; i++) legs.push({ coords: [coords[i - 1], coords[i]] });
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { formatter: function (p) { return p.data && p.data.name ? p.data.name : ""; } },
        geo: { map: "t" + route.map, roam: true, nameProperty: "code", itemStyle: { areaColor: "#eef3fb", borderColor: "#8aa4c8" },
               emphasis: { disabled: true } },
        series: [
          { type: "lines", coordinateSystem: "geo", data: legs, lineStyle: { color: "#b35900", width: 2 },
            symbol: ["none", "arrow"], symbolSize: 7 },
          { type: "scatter", coordinateSystem: "geo", symbolSize: 9, itemStyle: { color: "#1f6feb" },
            label: { show: true, position: "right", formatter: function (p) { return p.data.name; }, fontSize: 11 },
            // Stops close together (a county's towns) would print over each other: ECharts drops the
            // labels that overlap; the table beside the map names every stop.
            labelLayout: { hideOverlap: true },
            data: route.points.map(function (p) { return { name: p[2], value: [p[0], p[1]] }; }) }
        ]
      });
      el.dataset.drawn = String(route.points.length);  // tests wait for it
      window.addEventListener("resize", function () { chart.resize(); });
    })
    .catch(function () { el.hidden = true; });
})();

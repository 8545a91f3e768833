// Reports: draws each <canvas data-chart="..."> with Chart.js (vendor/chartjs). The data are
// the table's own cells (values in minor units, with their formatted text for tooltips).
(function () {
  if (typeof Chart === 'undefined') { return; }
  var COLORS = ['#2e7d32', '#00838f', '#1565c0', '#ef6c00', '#c62828', '#6a1b9a', '#546e7a'];
  var LINE = '#212529';
  function tickFormatter(spec, money) {
    if (!money || !spec.currency) {
      return function (v) { return Number(v).toLocaleString('en-US'); };
    }
    var fmt;
    try {
      fmt = new Intl.NumberFormat('en-US', {style: 'currency', currency: spec.currency,
                                            maximumFractionDigits: 0});
    } catch (e) { fmt = new Intl.NumberFormat('en-US'); }
    return function (v) { return fmt.format(v); };
  }
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute('data-chart'));
    var scale = Math.pow(10, spec.exponent || 0);
    var anyMoney = spec.datasets.some(function (d) { return d.money; });
    var bar = 0;
    var datasets = spec.datasets.map(function (d) {
      var isLine = d.type === 'line';
      var color = isLine ? LINE : COLORS[bar++ % COLORS.length];
      return {
        type: d.type, label: d.label, formatted: d.formatted,
        stack: isLine ? 'line-' + d.label : d.stack,
        data: d.values.map(function (v) { return d.money ? v / scale : v; }),
        backgroundColor: color, borderColor: color, borderWidth: isLine ? 2 : 0,
        pointRadius: isLine ? 3 : 0, tension: 0, order: isLine ? 0 : 1
      };
    });
    new Chart(canvas, {
      data: {labels: spec.labels, datasets: datasets},
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: {mode: 'index', intersect: false},
        scales: {
          x: {stacked: true},
          y: {stacked: true, ticks: {callback: tickFormatter(spec, anyMoney),
                                     precision: anyMoney ? undefined : 0}}
        },
        plugins: {
          legend: {position: 'bottom'},
          tooltip: {callbacks: {label: function (ctx) {
            return ctx.dataset.label + ': ' + ctx.dataset.formatted[ctx.dataIndex];
          }}}
        }
      }
    });
  });
})();

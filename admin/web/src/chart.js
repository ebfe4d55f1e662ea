// The clicks-per-day chart. The server renders the numbers as JSON and as
// a table; the canvas is decoration for sighted users, so it is hidden from
// assistive technology and the table stays the accessible source.
import uPlot from 'uplot';

// "2026-11-01" → seconds since the epoch at UTC midnight, uPlot's x unit.
function daySeconds(day) {
  const [y, m, d] = String(day).split('-').map(Number);
  return Date.UTC(y, m - 1, d) / 1000;
}

const numbers = (a, n) => Array.from({ length: n }, (_, i) => Number((a || [])[i]) || 0);

function render(host) {
  const source = document.getElementById(host.dataset.chart);
  let data = {};
  try {
    data = JSON.parse(source ? source.textContent : '{}') || {};
  } catch {
    // A broken payload leaves the table as the only view.
  }
  const days = Array.isArray(data.days) ? data.days : [];
  const xs = days.map(daySeconds);
  const series = [xs, numbers(data.people, xs.length), numbers(data.bots, xs.length)];

  const width = () => Math.max(200, Math.floor(host.clientWidth || 600));
  const opts = {
    width: width(),
    height: 280,
    // Dates are UTC days; showing them in local time would shift them.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(5, max)] } },
    axes: [{ stroke: '#1a1a1a' }, { stroke: '#1a1a1a', grid: { stroke: '#e5e5e5' } }],
    series: [
      { label: 'Day', value: (u, v) => (v == null ? '—' : uPlot.fmtDate('{YYYY}-{MM}-{DD}')(uPlot.tzDate(new Date(v * 1000), 'Etc/UTC'))) },
      { label: 'People', stroke: '#0b5cad', fill: 'rgba(11,92,173,0.12)', width: 2, points: { show: xs.length < 60 } },
      { label: 'Bots', stroke: '#b35900', width: 2, dash: [6, 4], points: { show: xs.length < 60 } },
    ],
  };
  const plot = new uPlot(opts, series, host);
  for (const canvas of host.querySelectorAll('canvas')) canvas.setAttribute('aria-hidden', 'true');

  // Follow the container's width; the height stays fixed.
  let last = opts.width;
  new ResizeObserver(() => {
    const w = width();
    if (w !== last) plot.setSize({ width: (last = w), height: 280 });
  }).observe(host);
}

for (const host of document.querySelectorAll('[data-chart]')) render(host);

/**
 * The status page itself: one HTML document, one script and one style sheet, served by the handler from memory
 * (they are TypeScript strings so that the JavaScript build in dist/ carries them; nothing is read from disk).
 * No framework, no build step, nothing from another origin: the page works offline and under a
 * `Content-Security-Policy` that allows only its own script, style and API (no inline script or style).
 *
 * The script polls `api` (relative to the page) every `data-refresh` milliseconds and rewrites the tables with
 * `textContent` only (never HTML from the API). States are words ("up", "down", "open"), colour only helps.
 */

export function pageHtml(refreshMs: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Gateway status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script src="app.js" defer></script>
</head>
<body data-refresh="${refreshMs}">
<header>
<h1>Gateway status</h1>
<p id="updated" role="status" aria-live="polite">Loading&hellip;</p>
</header>
<main>
<section aria-labelledby="config-title">
<h2 id="config-title">Configuration</h2>
<table id="config"><tbody></tbody></table>
</section>
<section aria-labelledby="routes-title">
<h2 id="routes-title">Routes</h2>
<table id="routes">
<caption>Rates, errors and latency over the last minute; totals since the gateway started (kept across reloads).</caption>
<thead><tr><th scope="col">Route</th><th scope="col">Methods</th><th scope="col">Requests</th><th scope="col">Rate (req/s)</th><th scope="col">Errors</th><th scope="col">Error %</th><th scope="col">p50 (ms)</th><th scope="col">p99 (ms)</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section aria-labelledby="upstreams-title">
<h2 id="upstreams-title">Upstreams</h2>
<table id="upstreams">
<thead><tr><th scope="col">Handler</th><th scope="col">Upstream</th><th scope="col">Health</th><th scope="col">Circuit breaker</th><th scope="col">Health checks</th><th scope="col">In flight</th><th scope="col">Weight</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section aria-labelledby="workers-title">
<h2 id="workers-title">Workers</h2>
<p id="workers-note"></p>
<table id="workers">
<thead><tr><th scope="col">Worker</th><th scope="col">PID</th><th scope="col">Uptime</th><th scope="col">Generation</th><th scope="col">Requests</th></tr></thead>
<tbody></tbody>
</table>
</section>
</main>
</body>
</html>
`;
}

export const PageScript = `'use strict';
(function () {
  var refresh = Number(document.body.dataset.refresh) || 2000;
  var updated = document.getElementById('updated');

  function cell(row, text, className, header) {
    var td = document.createElement(header ? 'th' : 'td');
    if (header) td.scope = 'row';
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function fill(id, rows, empty, columns) {
    var body = document.querySelector('#' + id + ' tbody');
    var next = document.createElement('tbody');
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = cell(tr, empty);
      td.colSpan = columns;
      next.appendChild(tr);
    }
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (c, i) {
        cell(tr, c.text, c.className, i === 0);
      });
      next.appendChild(tr);
    });
    body.replaceWith(next);
  }

  function t(text, className) {
    return { text: String(text), className: className || '' };
  }

  function num(n, digits) {
    return n === null || n === undefined ? '\\u2013' : n.toFixed(digits);
  }

  function time(ms) {
    return ms ? new Date(ms).toLocaleString() : '\\u2013';
  }

  function duration(seconds) {
    var s = Math.floor(seconds);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (h ? h + 'h ' : '') + (h || m ? m + 'm ' : '') + (s % 60) + 's';
  }

  function render(r) {
    var config = r.config;
    var last = config && config.reloads.last;
    fill('config', config ? [
      [t('Generation'), t(config.generation)],
      [t('Files'), t(config.files.join(', ') || '\\u2013')],
      [t('Serving since'), t(time(config.startedAt))],
      [t('Reloads'), t(config.reloads.succeeded + ' applied, ' + config.reloads.failed + ' rejected')],
      [t('Last reload'), last
        ? t((last.ok ? 'applied' : 'rejected') + ' at ' + time(last.at) + (last.error ? ': ' + last.error : ''), last.ok ? 'ok' : 'bad')
        : t('none')],
      [t('Listening'), t(r.servers.map(function (s) { return s.boundAddress || s.address; }).join(', ') || '\\u2013')]
    ] : [], 'Not run by a gateway: no configuration to show.', 2);

    fill('routes', r.routes.map(function (x) {
      var errorClass = x.errorRatio ? 'bad' : '';
      return [
        t(x.route), t(x.methods === null ? '(seen in traffic)' : x.methods.join(' ') || 'any'),
        t(x.requests), t(num(x.ratePerSecond, 2)), t(x.errors, x.errors ? 'bad' : ''),
        t(x.errorRatio === null ? '\\u2013' : num(100 * x.errorRatio, 1), errorClass),
        t(num(x.p50Ms, 1)), t(num(x.p99Ms, 1))
      ];
    }), 'No routes.', 8);

    var upstreams = [];
    r.loadBalancers.forEach(function (lb) {
      lb.upstreams.forEach(function (u) {
        var checks = [];
        if (u.probesPassing !== null) checks.push(u.probesPassing ? 'probes passing' : 'probes failing');
        if (u.ejected !== null) checks.push((u.ejected ? 'ejected' : 'not ejected') + ' (' + u.ejections + ' ejections)');
        upstreams.push([
          t(lb.handler + ' #' + lb.index), t(u.url), t(u.health, u.health === 'up' ? 'ok' : 'bad'),
          t(u.breaker === null ? 'none' : u.breaker, u.breaker === 'open' ? 'bad' : u.breaker === 'half-open' ? 'warn' : ''),
          t(checks.join(', ') || 'none'), t(u.inflight), t(u.weight)
        ]);
      });
    });
    fill('upstreams', upstreams, 'No reverse proxy upstreams.', 7);

    fill('workers', r.workers.list.map(function (w) {
      return [t(w.worker === null ? 'single process' : w.worker), t(w.pid), t(duration(w.uptimeSeconds)),
        t(w.generation === null ? '\\u2013' : w.generation), t(w.requests)];
    }), 'No worker answered.', 5);
    document.getElementById('workers-note').textContent = r.workers.note || '';
    updated.textContent = 'Updated ' + new Date(r.generatedAt).toLocaleTimeString() + ' (every ' + (refresh / 1000) + ' s)';
    updated.className = '';
  }

  function poll() {
    fetch('api', { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (res) {
        if (!res.ok) throw new Error('status API answered ' + res.status);
        return res.json();
      })
      .then(render)
      .catch(function (err) {
        updated.textContent = 'Not updated: ' + err.message + ' (retrying)';
        updated.className = 'bad';
      })
      .finally(function () {
        setTimeout(poll, refresh);
      });
  }
  poll();
})();
`;

export const PageStyle = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
table { border-collapse: collapse; min-width: 40%; }
caption { text-align: left; color: #555; padding-bottom: .3rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
tbody th { font-weight: normal; font-family: ui-monospace, monospace; }
td { font-variant-numeric: tabular-nums; }
.ok { color: #0a6b2d; font-weight: 600; }
.bad { color: #b00020; font-weight: 600; }
.warn { color: #8a5a00; font-weight: 600; }
#updated { color: #555; }
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #161616; }
  th, td { border-color: #444; }
  thead th { background: #262626; }
  caption, #updated { color: #aaa; }
  .ok { color: #5fd38a; } .bad { color: #ff7a8a; } .warn { color: #f0c060; }
}
`;

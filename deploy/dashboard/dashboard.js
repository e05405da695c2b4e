// SPDX-License-Identifier: MIT
//
// recoveryd's dashboard: reads the retained topics of DESIGN §7 over
// MQTT-over-websockets from the host that served this page, and publishes
// check-ins to <base>/<user>/checkin/set. Everything is drawn with
// textContent (never innerHTML): names, advice and goals are the users'
// own text.
//
// URL parameters: base (the base topic, default "recovery"), weeks (how
// many weeks the charts show, default 8), wss (a port: connect to
// wss://<this host>:PORT instead of this page's own listener, for a page
// served over plain HTTP whose broker takes logins over TLS only; see
// deploy/mosquitto/recoveryd.conf). Credentials come from the login
// form, which appears only when the broker refuses an anonymous client.
/* global mqtt, uPlot */
(function () {
  'use strict';

  const params = new URLSearchParams(location.search);
  const base = params.get('base') || 'recovery';
  const weeks = Math.min(Math.max(parseInt(params.get('weeks') || '8', 10) || 8, 1), 13);
  const wssPort = /^\d{1,5}$/.test(params.get('wss') || '') ? Number(params.get('wss')) : 0;
  const DAY_S = 86400;
  const CREDENTIALS_KEY = 'recoveryd-dashboard-login';

  const people = new Map(); // user -> person
  const devices = new Map(); // slug -> device payload
  // fresh: messages published while the page was connected (not the
  // retained ones handed over at subscribe).
  const stats = { firstChartMs: null, firstConnectMs: null, messages: 0, fresh: 0, connects: 0 };
  window.recoverydDashboard = stats; // read by the browser tests

  const $ = (sel, root) => (root || document).querySelector(sel);

  function text(el, value) {
    el.textContent = value === undefined || value === null ? '' : String(value);
  }

  function title(user) {
    return user.charAt(0).toUpperCase() + user.slice(1);
  }

  function parse(payload) {
    if (!payload || payload.length === 0) return null;
    try {
      return JSON.parse(new TextDecoder().decode(payload));
    } catch (e) {
      return undefined; // not JSON: ignored, as a broken retained message
    }
  }

  // --- people ----------------------------------------------------------

  function person(user) {
    let p = people.get(user);
    if (p) return p;
    const el = $('#person-template').content.firstElementChild.cloneNode(true);
    el.dataset.user = user;
    text($('.name', el), title(user));
    for (const name of ['mood', 'soreness', 'energy']) {
      const sel = $(`select[name="${name}"]`, el);
      for (let v = 1; v <= 5; v++) sel.add(new Option(String(v), String(v), v === 3, v === 3));
    }
    $('.checkin', el).addEventListener('submit', (ev) => {
      ev.preventDefault();
      sendCheckin(user, ev.target);
    });
    // People in name order, whatever order their topics arrive in.
    const list = $('#people');
    const after = [...list.children].find((c) => c.dataset.user > user);
    list.insertBefore(el, after || null);
    $('#empty').hidden = true;
    p = { user, el, state: null, history: [], live: null, charts: {} };
    people.set(user, p);
    return p;
  }

  function showState(p, s) {
    p.state = s;
    const today = $('.today', p.el);
    p.el.className = `person zone-${s.zone || 'none'}`;
    text($('.score', today), s.score === null || s.score === undefined ? '–' : s.score);
    text($('.zone', today), s.calibrating
      ? `calibrating ${s.calibration_nights || 0}/7` : (s.zone || ''));
    text($('.date', today), s.date);
    const a = s.advice || {};
    text($('.headline', today), a.headline);
    text($('.detail', today), a.detail);
    fillList($('.actions', p.el), a.actions);
    fillList($('.reasons', p.el), a.reasons);
  }

  function fillList(ul, items) {
    ul.replaceChildren(...(Array.isArray(items) ? items : []).map((t) => {
      const li = document.createElement('li');
      text(li, t);
      return li;
    }));
  }

  function showLive(p, live) {
    p.live = live;
    const hr = live && Number.isFinite(live.heart_rate_bpm) ? `♥ ${Math.round(live.heart_rate_bpm)} bpm` : '';
    text($('.live-hr', p.el), hr);
  }

  // --- charts ----------------------------------------------------------

  const COLORS = { score: '#3b82f6', rmssd: '#8b5cf6', band: 'rgba(139,92,246,0.15)', rhr: '#e53e3e', sleep: '#0ea5e9', weight: '#10b981' };

  function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  function dayOf(date) {
    return Date.parse(`${date}T00:00:00Z`) / 1000;
  }

  // The last `weeks` weeks of the history, as uPlot's column arrays.
  function columns(history) {
    const days = history.filter((d) => d && typeof d.date === 'string');
    if (!days.length) return null;
    const last = dayOf(days[days.length - 1].date);
    const shown = days.filter((d) => dayOf(d.date) > last - weeks * 7 * DAY_S);
    const col = (f) => shown.map((d) => f(d));
    return {
      x: col((d) => dayOf(d.date)),
      score: col((d) => num(d.score)),
      rmssd: col((d) => num(d.rmssd_ms)),
      low: col((d) => num(d.rmssd_normal_low_ms)),
      high: col((d) => num(d.rmssd_normal_high_ms)),
      rhr: col((d) => num(d.resting_hr_bpm)),
      rhrMean: col((d) => num(d.resting_hr_mean_bpm)),
      sleep: col((d) => (num(d.sleep_min) === null ? null : d.sleep_min / 60)),
      weight: col((d) => num(d.weight_kg)),
    };
  }

  function line(label, stroke, extra) {
    return Object.assign({ label, stroke, width: 2, spanGaps: true, points: { size: 4 } }, extra || {});
  }

  function chartSpec(name, c) {
    switch (name) {
      case 'score':
        return { data: [c.x, c.score], series: [line('score', COLORS.score)], range: [0, 100] };
      case 'rmssd':
        return {
          data: [c.x, c.low, c.high, c.rmssd],
          series: [
            line('normal low', COLORS.band, { width: 1, points: { show: false } }),
            line('normal high', COLORS.band, { width: 1, points: { show: false } }),
            line('RMSSD ms', COLORS.rmssd),
          ],
          bands: [{ series: [2, 1], fill: COLORS.band }],
        };
      case 'rhr':
        return {
          data: [c.x, c.rhrMean, c.rhr],
          series: [line('60-night mean', COLORS.rhr, { width: 1, dash: [4, 4], points: { show: false } }), line('resting HR', COLORS.rhr)],
        };
      case 'sleep':
        return { data: [c.x, c.sleep], series: [line('hours', COLORS.sleep)] };
      default:
        return { data: [c.x, c.weight], series: [line('kg', COLORS.weight)] };
    }
  }

  function drawCharts(p) {
    const c = columns(p.history);
    if (!c) return;
    for (const fig of p.el.querySelectorAll('figure[data-chart]')) {
      const name = fig.dataset.chart;
      const spec = chartSpec(name, c);
      const plot = $('.plot', fig);
      const hasData = spec.data.slice(1).some((s) => s.some((v) => v !== null));
      fig.dataset.points = String(spec.data[spec.data.length - 1].filter((v) => v !== null).length);
      if (p.charts[name]) p.charts[name].destroy();
      const width = Math.max(plot.clientWidth, 200);
      const opts = {
        width,
        height: 140,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: spec.range ? { range: spec.range } : { auto: true } },
        axes: [{ stroke: '#98a2b3', grid: { stroke: 'rgba(128,128,128,0.15)' } },
          { stroke: '#98a2b3', size: 40, grid: { stroke: 'rgba(128,128,128,0.15)' } }],
        series: [{}].concat(spec.series),
        bands: spec.bands,
        hooks: {
          draw: [() => {
            fig.dataset.drawn = 'true';
            if (hasData && stats.firstChartMs === null) {
              stats.firstChartMs = Math.round(performance.now());
              document.documentElement.dataset.firstChartMs = String(stats.firstChartMs);
            }
          }],
        },
      };
      p.charts[name] = new uPlot(opts, spec.data, plot);
    }
  }

  // Charts follow the width of their card (a phone turned sideways).
  const resize = new ResizeObserver((entries) => {
    for (const e of entries) {
      const p = people.get(e.target.dataset.user);
      if (!p) continue;
      for (const [name, u] of Object.entries(p.charts)) {
        const plot = $(`figure[data-chart="${name}"] .plot`, p.el);
        const w = Math.max(plot.clientWidth, 200);
        if (Math.abs(u.width - w) > 2) u.setSize({ width: w, height: 140 });
      }
    }
  });

  // --- devices ---------------------------------------------------------

  function deviceLine(d) {
    const li = document.createElement('li');
    const parts = [d.name || d.kind || 'device', d.connection];
    if (Number.isFinite(d.battery_pct)) parts.push(`battery ${d.battery_pct} %`);
    if (Number.isFinite(d.rssi_dbm)) parts.push(`${d.rssi_dbm} dBm`);
    text(li, parts.filter(Boolean).join(' · '));
    li.className = `device-${d.connection || 'unknown'}`;
    li.title = d.address || '';
    return li;
  }

  function showDevices() {
    const byUser = new Map();
    const shared = [];
    for (const d of [...devices.values()].sort((a, b) => String(a.address).localeCompare(String(b.address)))) {
      if (d.user && people.has(d.user)) {
        if (!byUser.has(d.user)) byUser.set(d.user, []);
        byUser.get(d.user).push(deviceLine(d));
      } else {
        shared.push(deviceLine(d));
      }
    }
    for (const p of people.values()) $('.devices', p.el).replaceChildren(...(byUser.get(p.user) || []));
    $('#shared .devices').replaceChildren(...shared);
    $('#shared').hidden = shared.length === 0;
  }

  // --- MQTT ------------------------------------------------------------

  function onMessage(topic, payload, packet) {
    stats.messages++;
    if (packet && !packet.retain) stats.fresh++;
    if (!topic.startsWith(`${base}/`)) return;
    const rest = topic.slice(base.length + 1).split('/');
    if (rest.length === 1 && rest[0] === 'status') {
      const online = new TextDecoder().decode(payload) === 'online';
      text($('#gateway'), online ? 'recoveryd online' : 'recoveryd offline');
      return;
    }
    const value = parse(payload);
    if (value === undefined) return;
    if (rest.length === 1 && rest[0] === 'gateway') {
      if (value && Array.isArray(value.people)) value.people.forEach((u) => person(u));
      return;
    }
    if (rest.length === 2 && rest[0] === 'device') {
      if (value) devices.set(rest[1], value);
      else devices.delete(rest[1]);
      showDevices();
      return;
    }
    if (rest.length !== 2 || value === null) return;
    const [user, leaf] = rest;
    if (leaf === 'state' && typeof value === 'object') showState(person(user), value);
    else if (leaf === 'live' && typeof value === 'object') showLive(person(user), value);
    else if (leaf === 'history' && Array.isArray(value)) {
      const p = person(user);
      p.history = value;
      drawCharts(p);
      resize.observe(p.el);
    } else return;
    showDevices();
  }

  function sendCheckin(user, form) {
    const status = $('.checkin-status', form);
    const body = {};
    for (const name of ['mood', 'soreness', 'energy']) body[name] = Number(form.elements[name].value);
    if (!client || !client.connected) {
      text(status, 'not connected: try again when the broker is back');
      return;
    }
    text(status, 'sending…');
    client.publish(`${base}/${user}/checkin/set`, JSON.stringify(body), { qos: 1, retain: false }, (err) => {
      text(status, err ? `not sent: ${err.message}` : `sent at ${new Date().toLocaleTimeString()}`);
      form.dataset.sent = err ? 'error' : 'ok';
    });
  }

  function setConnection(state, label) {
    const el = $('#connection');
    el.dataset.state = state;
    text(el, label);
  }

  let client = null;

  function connect(credentials) {
    const url = wssPort > 0 && wssPort < 65536
      ? `wss://${location.hostname}:${wssPort}/mqtt`
      : `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;
    text($('#broker'), url);
    text($('#base'), base);
    if (client) client.end(true);
    const opts = {
      clientId: `dashboard-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10000,
      keepalive: 30,
    };
    if (credentials) {
      opts.username = credentials.username;
      opts.password = credentials.password;
    }
    client = mqtt.connect(url, opts);
    client.on('connect', () => {
      stats.connects++;
      if (stats.firstConnectMs === null) stats.firstConnectMs = Math.round(performance.now());
      setConnection('connected', 'connected');
      $('#login').hidden = true;
      client.subscribe(`${base}/#`, { qos: 0 });
    });
    client.on('reconnect', () => setConnection('connecting', 'reconnecting…'));
    client.on('offline', () => setConnection('offline', 'broker unreachable'));
    client.on('error', (err) => {
      // 4: bad user name or password, 5: not authorised (MQTT 3.1.1).
      if (err && (err.code === 4 || err.code === 5 || err.code === 134 || err.code === 135)) {
        client.end(true);
        setConnection('offline', 'login needed');
        text($('#login-why'), credentials ? 'The broker refused this user name or password.' : 'The broker asks for a user name and password.');
        $('#login').hidden = false;
      }
    });
    client.on('message', onMessage);
  }

  $('#login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const credentials = { username: f.elements.username.value, password: f.elements.password.value };
    if (f.elements.remember.checked) localStorage.setItem(CREDENTIALS_KEY, JSON.stringify(credentials));
    connect(credentials);
  });

  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(CREDENTIALS_KEY) || 'null');
  } catch (e) {
    saved = null;
  }
  connect(saved);
})();

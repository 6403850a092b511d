/**
 * The approval console: one HTML page, one stylesheet and one script, no framework and no build
 * step (docs/decisions/0017-approval-console.md). The same assets are served by the approvals API
 * on AWS and by `upshift up` locally; only the sign-in differs (the user pool's hosted sign-in,
 * or the local users file). The page holds no data: everything it shows comes from the API with
 * the signed-in person's token.
 */

/** How the page signs people in. */
export type ConsoleConfig =
  | { mode: 'local'; users: string[] }
  | { mode: 'cognito'; signInUrl?: string; clientId?: string };

export interface ConsoleAsset {
  headers: Record<string, string>;
  body: string;
}

const security = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' https:; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The asset at `path`, or undefined when the console has none there. */
export function consoleAsset(path: string, config: ConsoleConfig): ConsoleAsset | undefined {
  if (path === '/' || path === '/index.html' || path === '/console' || path === '/console/')
    return { headers: { ...security, 'content-type': 'text/html; charset=utf-8' }, body: page(config) };
  if (path === '/console.js')
    return { headers: { ...security, 'content-type': 'text/javascript; charset=utf-8' }, body: script };
  if (path === '/console.css')
    return { headers: { ...security, 'content-type': 'text/css; charset=utf-8' }, body: styles };
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(config: ConsoleConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Upshift approvals</title>
<link rel="stylesheet" href="/console.css">
</head>
<body data-config="${escapeHtml(JSON.stringify(config))}">
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1><a href="#/">Upshift</a></h1>
  <nav aria-label="Sections"><a href="#/">Pending</a> <a href="#/upgrades">Upgrades</a> <a href="#/waves">Waves</a></nav>
  <div id="who" aria-live="polite"></div>
</header>
<main id="main" tabindex="-1">
  <p>Loading…</p>
</main>
<div id="status" role="status" aria-live="polite"></div>
<script src="/console.js"></script>
</body>
</html>
`;
}

const styles = `
:root { font-family: system-ui, sans-serif; color: #1b1f24; background: #fff; }
body { margin: 0; }
header { display: flex; gap: 1.5rem; align-items: center; padding: .75rem 1.5rem; background: #0b3d5c; color: #fff; }
header a { color: #fff; }
header h1 { font-size: 1.25rem; margin: 0; }
#who { margin-left: auto; }
main { padding: 1rem 1.5rem; max-width: 72rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #c5ccd3; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #eef2f5; }
.FAIL, .REJECTED, .ROLLED_BACK, .FAILED, .EXPIRED { color: #a4001d; font-weight: 600; }
.PASS, .COMPLETED, .APPROVED, .PASSED { color: #126b2c; font-weight: 600; }
.HALTED, .STOPPED, .SUPERSEDED { color: #6b4a00; font-weight: 600; }
.SHADOWED { color: #4a4f8a; font-weight: 600; font-style: italic; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
textarea, input, select { font: inherit; padding: .4rem; width: 100%; max-width: 40rem; box-sizing: border-box; }
button { font: inherit; padding: .5rem 1rem; margin: .5rem .5rem .5rem 0; border: 2px solid #0b3d5c; border-radius: 4px; background: #fff; cursor: pointer; }
button.primary { background: #0b3d5c; color: #fff; }
a:focus, button:focus, textarea:focus, input:focus, select:focus, main:focus { outline: 3px solid #ffbf47; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; color: #000; padding: .5rem; z-index: 1; }
#status { padding: 0 1.5rem; }
.notice { padding: .5rem .75rem; border-left: 4px solid #0b3d5c; background: #eef2f5; }
.error { border-left-color: #a4001d; }
`;

// Plain ES2017 in a string: no template literals inside, so nothing here is interpolated.
const script = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.body.getAttribute('data-config') || '{}');
  var main = document.getElementById('main');
  var statusBox = document.getElementById('status');
  var who = document.getElementById('who');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k.indexOf('on') === 0) node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }
  function say(text, isError) {
    statusBox.textContent = '';
    statusBox.appendChild(el('p', { class: 'notice' + (isError ? ' error' : ''), text: text }));
  }
  function token() { return sessionStorage.getItem('upshift.token'); }
  function show(nodes, heading) {
    main.textContent = '';
    nodes.forEach(function (n) { main.appendChild(n); });
    if (heading) document.title = heading + ' - Upshift';
    main.focus();
  }

  // The user pool's hosted sign-in returns the ID token in the fragment.
  var fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (fragment.get('id_token')) {
    sessionStorage.setItem('upshift.token', fragment.get('id_token'));
    history.replaceState(null, '', location.pathname + '#/');
  }

  function api(method, path, body) {
    return fetch(path, {
      method: method,
      headers: Object.assign({ authorization: 'Bearer ' + token() }, body ? { 'content-type': 'application/json' } : {}),
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (res) {
      return res.json().then(function (data) {
        if (res.status === 401) { sessionStorage.removeItem('upshift.token'); }
        return { status: res.status, data: data };
      });
    });
  }

  function signInPage() {
    who.textContent = '';
    if (config.mode === 'local') {
      var input = el('select', { id: 'user', name: 'user' }, config.users.map(function (u) { return el('option', { value: u, text: u }); }));
      var form = el('form', { onsubmit: function (e) {
        e.preventDefault();
        fetch('/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: input.value }) })
          .then(function (r) { return r.json().then(function (d) { return { status: r.status, data: d }; }); })
          .then(function (r) {
            if (r.status !== 200) { say(r.data.error ? r.data.error.message : 'sign-in failed', true); return; }
            sessionStorage.setItem('upshift.token', r.data.token);
            route();
          });
      } }, [el('label', { for: 'user', text: 'User (from the local users file)' }), input, el('button', { type: 'submit', class: 'primary', text: 'Sign in' })]);
      show([el('h2', { text: 'Sign in' }), form], 'Sign in');
      return;
    }
    if (config.signInUrl && config.clientId) {
      var url = config.signInUrl + '/oauth2/authorize?response_type=token&scope=openid&client_id=' + encodeURIComponent(config.clientId) + '&redirect_uri=' + encodeURIComponent(location.origin + location.pathname);
      show([el('h2', { text: 'Sign in' }), el('p', {}, [el('a', { href: url, text: 'Sign in with your Upshift account' })])], 'Sign in');
      return;
    }
    show([el('h2', { text: 'Sign in' }), el('p', { text: 'No sign-in is configured for this console.' })], 'Sign in');
  }

  function table(caption, headers, rows) {
    return el('table', {}, [
      el('caption', { text: caption }),
      el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', { scope: 'col', text: h }); }))]),
      el('tbody', {}, rows.map(function (r) { return el('tr', {}, r.map(function (c) { return c && c.nodeType ? el('td', {}, [c]) : el('td', { text: c === null || c === undefined ? '' : String(c), class: String(c) }); })); })),
    ]);
  }

  function pendingPage() {
    return api('GET', '/api/approvals').then(function (r) {
      if (r.status !== 200) return failed(r);
      var rows = r.data.approvals.map(function (a) {
        return [el('a', { href: '#/approvals/' + encodeURIComponent(a.id), text: a.component + ' ' + a.version }), a.environment, a.risk, a.approvers.length + ' of ' + a.required, a.expiresAt];
      });
      show([el('h2', { text: 'Pending approvals' }), rows.length ? table('Waiting for a decision', ['Upgrade', 'Environment', 'Risk', 'Approvals', 'Expires'], rows) : el('p', { text: 'Nothing waits for you.' })], 'Pending approvals');
    });
  }

  function upgradesPage() {
    return api('GET', '/api/workflows').then(function (r) {
      if (r.status !== 200) return failed(r);
      var inflight = r.data.workflows.filter(function (w) { return w.status === 'RUNNING'; });
      var ended = r.data.workflows.filter(function (w) { return w.status !== 'RUNNING'; });
      show([
        el('h2', { text: 'Upgrades' }),
        table('In flight', ['Upgrade', 'Environment', 'Stage', 'Traffic %', 'Started'], inflight.map(function (w) { return [w.component + ' ' + w.version, w.environment, w.stage + ' ' + w.stageStatus, w.trafficPercent === null ? (w.trafficUnavailable || '') : w.trafficPercent + '%', w.startedAt]; })),
        table('History', ['Upgrade', 'Environment', 'Outcome', 'Reasons', 'Ended'], ended.map(function (w) { return [w.component + ' ' + w.version, w.environment, w.outcome, w.reasons.map(function (x) { return x.code + ': ' + x.message; }).join('; '), w.endedAt]; })),
      ], 'Upgrades');
    });
  }

  function stagesOf(w) {
    return w.stages.map(function (st) { return st.environment + ' ' + st.status + (st.note ? ' (' + st.note + ')' : ''); }).join(' → ');
  }

  function wavesPage() {
    return api('GET', '/api/waves').then(function (r) {
      if (r.status !== 200) return failed(r);
      show([
        el('h2', { text: 'Promotion waves' }),
        table('Waves, newest first', ['Wave', 'Version', 'Status', 'Stages', 'Started'], r.data.waves.map(function (w) {
          return [el('a', { href: '#/waves/' + encodeURIComponent(w.waveId), text: w.component + ' ' + w.waveId }), w.version, w.status, stagesOf(w), w.startedAt];
        })),
      ], 'Waves');
    });
  }

  function wavePage(id) {
    return api('GET', '/api/waves/' + encodeURIComponent(id)).then(function (r) {
      if (r.status !== 200) return failed(r);
      var w = r.data.wave;
      var end = w.halted ? el('p', { class: 'notice error', text: 'Halted in ' + w.halted.environment + ' at ' + w.halted.at + ': ' + w.halted.reasons.map(function (x) { return x.code + ': ' + x.message; }).join('; ') })
        : w.supersededBy ? el('p', { class: 'notice', text: 'Superseded by ' + w.supersededBy.version + ' (' + w.supersededBy.waveId + ') at ' + w.supersededBy.at })
        : null;
      show([
        el('h2', { text: w.component + ' ' + w.version + ': ' + w.status }),
        el('p', { text: 'Wave ' + w.waveId + ', started ' + w.startedAt + (w.release ? ', release ' + w.release : '') + (w.after.length ? ', after ' + w.after.join(', ') : '') + (w.coordinatedRollback ? ', coordinated rollback' : '') }),
        end,
        table('Stages', ['Environment', 'Status', 'Started', 'Ended', 'Outcome', 'Soak', 'Note', 'Workflow'], w.stages.map(function (st) {
          return [st.environment, st.status, st.startedAt || st.publishedAt || '', st.endedAt || '', st.outcome || '', st.soakMinutes + ' min' + (st.status === 'SOAKING' ? ' until ' + st.soakUntil : ''),
            (st.note || '') + (st.rollback ? ' rollback to ' + (st.rollback.toVersion || 'the version before') + (st.rollback.sent ? ' requested' : ' decided') : ''), st.workflowId || ''];
        })),
      ].filter(function (n) { return n; }), w.component + ' ' + w.version);
    });
  }

  function approvalPage(id) {
    return api('GET', '/api/approvals/' + encodeURIComponent(id)).then(function (r) {
      if (r.status !== 200) return failed(r);
      var a = r.data.approval, ev = r.data.evidence, you = r.data.you;
      var checks = ev.verification.checks.map(function (c) {
        return [c.probe + ' (' + c.check + ')', c.kind || '', c.severity || '', el('span', { class: c.status, text: c.status }), (c.reasons || []).join('; ')];
      });
      var comment = el('textarea', { id: 'comment', name: 'comment', rows: '3', required: 'required', 'aria-describedby': 'comment-help' });
      function answer(kind) {
        return function () {
          if (!comment.value.trim()) { say('Write a comment: why you ' + kind + '.', true); comment.focus(); return; }
          api('POST', '/api/approvals/' + encodeURIComponent(id) + '/' + kind, { comment: comment.value }).then(function (res) {
            if (res.status !== 200) { say(res.data.error.message, true); return; }
            say(res.data.message);
            approvalPage(id);
          });
        };
      }
      var form = a.status === 'PENDING' ? el('section', { 'aria-labelledby': 'decide' }, [
        el('h3', { id: 'decide', text: 'Your decision' }),
        you.mayAnswer ? null : el('p', { class: 'notice error', text: you.refusal.message }),
        el('label', { for: 'comment', text: 'Comment' }), comment,
        el('p', { id: 'comment-help', text: 'Recorded with your name and the time.' }),
        el('button', { type: 'button', class: 'primary', onclick: answer('approve'), text: 'Approve' }),
        el('button', { type: 'button', onclick: answer('reject'), text: 'Reject' }),
      ]) : el('p', { class: 'notice', text: 'Decided: ' + a.status + (a.decidedBy ? ' by ' + a.decidedBy : '') + (a.comment ? ' (' + a.comment + ')' : '') });
      show([
        el('h2', { text: a.component + ' ' + a.version + ' to ' + a.environment }),
        el('p', {}, [el('span', { class: a.status, text: a.status }), ' · risk ' + ev.risk + ' · ' + (ev.versions.from || 'none') + ' → ' + ev.versions.to + (ev.commit ? ' · commit ' + ev.commit : '') + ' · expires ' + a.expiresAt]),
        el('p', { text: 'Approvals: ' + a.approvers.map(function (x) { return x.by + (x.comment ? ' (' + x.comment + ')' : ''); }).join(', ') + ' — ' + a.approvers.length + ' of ' + a.required + (a.groups.length ? '; groups ' + a.groups.join(', ') : '') }),
        el('h3', { text: 'Verification: ' + (ev.verification.verdict || 'none') }),
        checks.length ? table('Verification evidence', ['Probe', 'Kind', 'Severity', 'Status', 'Reasons'], checks) : el('p', { text: 'No checks were recorded.' }),
        el('h3', { text: 'Why a person decides' }),
        table('Decision reasons', ['Code', 'Message'], ev.decision.reasons.map(function (x) { return [x.code, x.message]; })),
        el('details', {}, [el('summary', { text: 'Decision trace' }), table('Every check and rule', ['Check', 'Matched', 'Detail'], ev.decision.trace.map(function (t) { return [t.check, String(t.matched), t.detail]; }))]),
        ev.changelog ? el('pre', { text: String(ev.changelog) }) : null,
        form,
      ].filter(Boolean), a.component + ' ' + a.version);
    });
  }

  function failed(r) {
    if (r.status === 401) return signInPage();
    show([el('p', { class: 'notice error', text: r.data.error ? r.data.error.message : 'request failed' })], 'Error');
  }

  function route() {
    if (!token()) return signInPage();
    api('GET', '/api/whoami').then(function (r) {
      if (r.status !== 200) return signInPage();
      who.textContent = '';
      who.appendChild(el('span', { text: 'Signed in as ' + r.data.identity.name + ' ' }));
      who.appendChild(el('button', { type: 'button', onclick: function () { sessionStorage.removeItem('upshift.token'); route(); }, text: 'Sign out' }));
      var m = /^#\/approvals\/(.+)$/.exec(location.hash);
      if (m) return approvalPage(decodeURIComponent(m[1]));
      if (location.hash === '#/upgrades') return upgradesPage();
      var wv = /^#\/waves\/(.+)$/.exec(location.hash);
      if (wv) return wavePage(decodeURIComponent(wv[1]));
      if (location.hash === '#/waves') return wavesPage();
      return pendingPage();
    });
  }
  window.addEventListener('hashchange', route);
  route();
})();
`;

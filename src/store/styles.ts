/** The developer portal's only stylesheet: inline (nonce-allowed by the CSP), no external fonts or assets. */
export const STORE_CSS = `
:root {
  color-scheme: light;
  --ink: #1b2232;
  --muted: #5d6678;
  --faint: #8a93a5;
  --line: #dde2ec;
  --panel: #ffffff;
  --page: #f4f6fb;
  --accent: #2f5bd3;
  --accent-dark: #2247aa;
  --accent-soft: #eaf0ff;
  --danger: #b42318;
  --danger-soft: #fef3f2;
  --ok: #067647;
  --ok-soft: #ecfdf3;
  --warn: #93370d;
  --warn-soft: #fffaeb;
  --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink);
  background: var(--page);
  min-height: 100vh;
  display: flex;
  flex-direction: column;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { background: #162447; color: #fff; }
.top-inner {
  max-width: 1080px; margin: 0 auto; padding: 10px 20px;
  display: flex; align-items: center; gap: 18px; flex-wrap: wrap;
}
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; color: #fff; letter-spacing: 0.2px; }
.brand:hover { text-decoration: none; }
.brand svg { width: 28px; height: 28px; flex: none; }
.brand small { font-weight: 500; color: #aebbdc; }
nav.main { display: flex; gap: 4px; }
nav.main a { color: #d5defa; padding: 6px 12px; border-radius: 8px; font-weight: 600; font-size: 14px; }
nav.main a:hover { background: rgba(255, 255, 255, 0.08); text-decoration: none; }
nav.main a[aria-current="page"] { background: rgba(255, 255, 255, 0.16); color: #fff; }
.who { margin-left: auto; display: flex; align-items: center; gap: 10px; font-size: 14px; color: #d5defa; }
.who form { margin: 0; }
.who button { background: transparent; color: #fff; border: 1px solid rgba(255, 255, 255, 0.35); padding: 5px 12px; }
.who button:hover { background: rgba(255, 255, 255, 0.1); }
.avatar {
  width: 28px; height: 28px; border-radius: 50%; background: #4c6fe0; color: #fff;
  display: inline-grid; place-items: center; font-weight: 700; font-size: 13px; flex: none;
}
main { flex: 1; width: 100%; max-width: 1080px; margin: 0 auto; padding: 28px 20px 40px; }
footer { text-align: center; font-size: 12px; color: var(--faint); padding: 18px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
.lead { color: var(--muted); margin: 0 0 22px; }
.page-head { display: flex; align-items: flex-end; justify-content: space-between; gap: 12px; flex-wrap: wrap; margin-bottom: 20px; }
.page-head .lead { margin: 0; }
.crumbs { font-size: 13px; color: var(--muted); margin-bottom: 6px; }
.card {
  background: var(--panel); border: 1px solid var(--line); border-radius: 14px;
  box-shadow: 0 1px 2px rgba(27, 34, 50, 0.04), 0 6px 18px rgba(27, 34, 50, 0.05);
  padding: 22px; margin-bottom: 20px;
}
.card > :last-child { margin-bottom: 0; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); margin-bottom: 20px; }
.grid .card { margin-bottom: 0; display: flex; flex-direction: column; }
.split { display: grid; gap: 20px; grid-template-columns: minmax(0, 1.6fr) minmax(0, 1fr); align-items: start; }
.keys { display: grid; gap: 20px; grid-template-columns: repeat(2, minmax(0, 1fr)); align-items: start; }
.card-title { display: flex; align-items: center; justify-content: space-between; gap: 10px; margin-bottom: 10px; }
.card-title h2, .card-title h3 { margin: 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.badge {
  display: inline-block; font-size: 12px; font-weight: 700; letter-spacing: 0.3px; padding: 2px 8px;
  border-radius: 999px; background: var(--accent-soft); color: var(--accent-dark); white-space: nowrap;
}
.badge.prod { background: #e7f6ee; color: #05603a; }
.badge.sandbox { background: #fff4e5; color: #9a4d05; }
.badge.grey { background: #eef0f4; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 6px 14px; margin: 0 0 14px; font-size: 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: var(--mono); font-size: 13px; }
code { background: #eef1f7; border-radius: 6px; padding: 1px 6px; overflow-wrap: anywhere; }
.value {
  display: block; font-family: var(--mono); font-size: 13px; background: #f5f7fc; border: 1px solid var(--line);
  border-radius: 8px; padding: 8px 10px; overflow-wrap: anywhere; word-break: break-all; user-select: all;
}
label { display: block; font-weight: 600; font-size: 14px; margin: 14px 0 6px; }
form > label:first-of-type, .field:first-child label { margin-top: 0; }
input[type="text"], input[type="password"], input[type="url"], select {
  width: 100%; padding: 9px 11px; font: inherit; color: var(--ink); background: #fbfcfe;
  border: 1px solid var(--line); border-radius: var(--radius);
}
select { appearance: auto; }
input:focus, select:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px rgba(47, 91, 211, 0.18); }
.hint { font-size: 13px; color: var(--muted); margin: 5px 0 0; }
.row { display: grid; gap: 0 14px; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); }
.row > .field { margin-top: 12px; }
.row > .field > label { margin-top: 0; }
.key .row { grid-template-columns: minmax(0, 1fr); }
.subscribe-box { background: #f7f9fd; border: 1px solid var(--line); border-radius: 12px; padding: 4px 16px 16px; margin-bottom: 18px; }
.subscribe-box h3 { margin: 12px 0 0; font-size: 14px; }
.actions { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 18px; align-items: center; }
.actions.tight { margin-top: 10px; }
.inline { display: inline; margin: 0; }
button {
  padding: 9px 16px; font: inherit; font-weight: 600; font-size: 14px; border-radius: var(--radius);
  border: 1px solid transparent; cursor: pointer; background: var(--accent); color: #fff;
}
button:hover { background: var(--accent-dark); }
button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
button.secondary:hover { background: #f2f4f8; }
button.danger { background: #fff; color: var(--danger); border-color: #f3c4bf; }
button.danger:hover { background: var(--danger-soft); }
button:focus-visible, a:focus-visible { outline: 3px solid rgba(47, 91, 211, 0.35); outline-offset: 2px; }
.alert { border-radius: var(--radius); padding: 11px 14px; margin: 0 0 18px; font-size: 14px; border: 1px solid; }
.alert.error { background: var(--danger-soft); color: var(--danger); border-color: #fecdca; }
.alert.success { background: var(--ok-soft); color: var(--ok); border-color: #abefc6; }
.shown { border: 2px solid #f5b94a; background: var(--warn-soft); }
.shown h2 { color: var(--warn); }
.shown .field { margin-top: 12px; }
.shown .field span.label { display: block; font-size: 13px; font-weight: 700; color: var(--warn); margin-bottom: 4px; }
table { width: 100%; border-collapse: collapse; font-size: 14px; }
th { text-align: left; font-size: 12px; text-transform: uppercase; letter-spacing: 0.5px; color: var(--muted); font-weight: 700; }
th, td { padding: 10px 8px; border-top: 1px solid var(--line); vertical-align: middle; }
thead th { border-top: none; }
td.right, th.right { text-align: right; }
.empty { text-align: center; color: var(--muted); padding: 26px 10px; border: 1px dashed var(--line); border-radius: 12px; background: #fafbfd; }
.api-path { font-family: var(--mono); font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.api-context { font-family: var(--mono); font-size: 14px; font-weight: 600; margin: 0 0 2px; }
.grow { flex: 1; }
.subscribe { margin-top: 14px; padding-top: 14px; border-top: 1px solid var(--line); }
.danger-zone { border-color: #f3c4bf; }
.signin { max-width: 420px; margin: 40px auto 0; }
.signin .card { padding: 30px; }
.signin h1 { font-size: 22px; }
.signin button[type="submit"] { width: 100%; padding: 11px; margin-top: 22px; }
@media (max-width: 760px) {
  main { padding: 18px 14px 30px; }
  .split, .keys { grid-template-columns: minmax(0, 1fr); }
  .top-inner { padding: 10px 14px; gap: 10px; }
  .who .name { display: none; }
  h1 { font-size: 22px; }
  .card { padding: 16px; }
  table.stack thead { display: none; }
  table.stack tr { display: block; border-top: 1px solid var(--line); padding: 8px 0; }
  table.stack td { display: block; border: none; padding: 3px 0; }
  table.stack td.right { text-align: left; }
  table.stack tbody tr:first-child { border-top: none; }
  table.stack td[data-label]::before {
    content: attr(data-label); display: inline-block; min-width: 130px; color: var(--muted);
    font-size: 12px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.4px;
  }
}
`;

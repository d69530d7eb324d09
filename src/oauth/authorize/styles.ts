/** The sign-in pages' only stylesheet: inline (nonce-allowed by the CSP), no external fonts or CDN assets. */
export const PAGE_CSS = `
:root {
  color-scheme: light;
  --ink: #1d2433;
  --muted: #5b6475;
  --line: #d9dee8;
  --accent: #2f5bd3;
  --accent-dark: #2247aa;
  --danger: #b42318;
  --danger-bg: #fef3f2;
  --ok-bg: #f0f5ff;
  --radius: 10px;
}
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; }
body {
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  padding: 32px 16px;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink);
  background: linear-gradient(160deg, #eef2fb 0%, #f7f8fb 55%, #e9eef9 100%);
}
.brand {
  display: flex;
  align-items: center;
  gap: 10px;
  margin-bottom: 18px;
  font-weight: 600;
  letter-spacing: 0.2px;
  color: var(--muted);
}
.brand svg { width: 28px; height: 28px; }
.card {
  width: 100%;
  max-width: 420px;
  background: #fff;
  border: 1px solid var(--line);
  border-radius: 14px;
  box-shadow: 0 12px 32px rgba(29, 36, 51, 0.08), 0 2px 6px rgba(29, 36, 51, 0.05);
  padding: 32px 32px 28px;
}
h1 { font-size: 22px; line-height: 1.3; margin: 0 0 6px; }
.lead { margin: 0 0 22px; color: var(--muted); }
.app { color: var(--ink); font-weight: 600; }
label { display: block; font-weight: 600; font-size: 14px; margin: 14px 0 6px; }
input[type="text"], input[type="password"] {
  width: 100%;
  padding: 10px 12px;
  font: inherit;
  color: var(--ink);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  background: #fbfcfe;
  transition: border-color 0.15s, box-shadow 0.15s;
}
input:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px rgba(47, 91, 211, 0.18); }
.hint { font-size: 13px; color: var(--muted); margin: 6px 0 0; }
.buttons { display: flex; gap: 10px; margin-top: 24px; }
button {
  flex: 1;
  padding: 11px 16px;
  font: inherit;
  font-weight: 600;
  border-radius: var(--radius);
  border: 1px solid transparent;
  cursor: pointer;
}
button.primary { background: var(--accent); color: #fff; }
button.primary:hover { background: var(--accent-dark); }
button.secondary { background: #fff; color: var(--ink); border-color: var(--line); }
button.secondary:hover { background: #f3f5f9; }
button:focus-visible { outline: 3px solid rgba(47, 91, 211, 0.35); outline-offset: 2px; }
.alert {
  border-radius: var(--radius);
  padding: 10px 12px;
  margin: 0 0 16px;
  font-size: 14px;
}
.alert.error { background: var(--danger-bg); color: var(--danger); border: 1px solid #fecdca; }
.alert.info { background: var(--ok-bg); color: var(--accent-dark); border: 1px solid #c7d7fe; }
.section-title { font-size: 13px; text-transform: uppercase; letter-spacing: 0.6px; color: var(--muted); margin: 18px 0 8px; }
ul.scopes { list-style: none; margin: 0; padding: 0; border: 1px solid var(--line); border-radius: var(--radius); }
ul.scopes li { display: flex; gap: 10px; align-items: baseline; padding: 10px 12px; border-top: 1px solid var(--line); }
ul.scopes li:first-child { border-top: none; }
ul.scopes code {
  font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #f1f3f8;
  border-radius: 6px;
  padding: 1px 6px;
  white-space: nowrap;
}
ul.scopes span { color: var(--muted); font-size: 14px; }
.user {
  display: flex;
  align-items: center;
  gap: 10px;
  padding: 10px 12px;
  border-radius: var(--radius);
  background: #f6f8fc;
  border: 1px solid var(--line);
  margin-bottom: 6px;
}
.avatar {
  width: 32px;
  height: 32px;
  border-radius: 50%;
  background: var(--accent);
  color: #fff;
  display: grid;
  place-items: center;
  font-weight: 700;
}
.redirect { font-size: 13px; color: var(--muted); margin: 16px 0 0; word-break: break-all; }
.error-code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--danger); }
footer { margin-top: 18px; font-size: 12px; color: var(--muted); }
`;

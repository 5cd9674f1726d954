/**
 * /admin/login: paste an access token with the admin:queues scope; the page sends it once, in the
 * Authorization header, to POST /admin/session, which answers with the session cookie, and opens the board.
 * The token is never stored by the page. Script in its own file: the page's CSP forbids inline scripts.
 */
export const LOGIN_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="robots" content="noindex">
  <link rel="icon" href="data:,">
  <title>Novee webhooks: queue dashboard sign-in</title>
  <script defer src="/admin/login.js"></script>
</head>
<body>
  <h1>Queue dashboard</h1>
  <form id="login">
    <label for="token">Access token (scope admin:queues)</label><br>
    <textarea id="token" name="token" rows="6" cols="80" autocomplete="off" spellcheck="false" required></textarea><br>
    <button type="submit" id="sign-in">Sign in</button>
  </form>
  <p id="status" role="status"></p>
</body>
</html>
`;

export const LOGIN_SCRIPT = `'use strict';
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const field = document.getElementById('token');
  const status = document.getElementById('status');
  const token = field.value.trim();
  field.value = '';
  status.textContent = 'Signing in...';
  try {
    const response = await fetch('/admin/session', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token },
      credentials: 'same-origin',
    });
    if (response.status === 204) return void window.location.assign('/admin/queues');
    const body = await response.json().catch(() => ({}));
    status.textContent = 'Sign-in refused (' + response.status + '): ' + (body.message || response.statusText);
  } catch (error) {
    status.textContent = 'Sign-in failed: ' + error.message;
  }
});
`;

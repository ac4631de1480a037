'use strict';
/** Test helpers: run an app on loopback, talk JSON to it, wait for something to happen. */

/** Listen on 127.0.0.1:<port> (0 = any free port). Resolves to { url, close }. */
function listen(app, port = 0) {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', (error) => {
      if (error) return reject(error);
      const url = `http://127.0.0.1:${server.address().port}`;
      const close = () =>
        new Promise((done) => {
          server.close(() => done());
          // Keep-alive connections (the service's worker, fetch) would hold close() open.
          server.closeAllConnections();
        });
      return resolve({ url, close, server });
    });
  });
}

/** fetch + JSON, answering { status, body }. */
async function request(method, url, body, headers = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(15_000) };
  if (body !== undefined) {
    init.headers['Content-Type'] = init.headers['Content-Type'] || 'application/json';
    init.body = Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Poll `check` until it returns a truthy value or `timeoutMs` passes. */
async function eventually(
  check,
  { timeoutMs = 15_000, intervalMs = 200, what = 'condition' } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A logger that keeps lines instead of printing them. */
function quietLogger() {
  const lines = [];
  const keep = (level) => (message) => lines.push(`${level}: ${message}`);
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error'), log: keep('log') };
}

module.exports = { listen, request, eventually, quietLogger };

'use strict';
/** A stand-in service answering a scripted sequence, for the client's unit tests. */
const http = require('node:http');

/** A server answering from `script` (one entry per request) and recording requests. */
function scriptedServer() {
  const seen = [];
  const script = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: text ? JSON.parse(text) : null,
      });
      const step = script.shift() || { status: 500, body: { code: 'internal_error' } };
      if (step.hang) return; // never answers: the client times out
      if (step.destroy) return req.socket.destroy();
      const headers = {
        'Content-Type': step.status >= 400 ? 'application/problem+json' : 'application/json',
      };
      if (step.retryAfter) headers['Retry-After'] = String(step.retryAfter);
      res.writeHead(step.status, headers);
      res.end(JSON.stringify(step.body ?? {}));
    });
  });
  return {
    seen,
    script,
    start: () =>
      new Promise((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)),
      ),
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const problem = (status, code, detail = code) => ({
  status,
  body: {
    type: `urn:payments-service:problem:${code}`,
    title: code,
    status,
    detail,
    code,
    request_id: 'r1',
  },
});

module.exports = { scriptedServer, problem };

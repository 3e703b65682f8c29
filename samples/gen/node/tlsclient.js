// tlsclient.js: a Node.js tls.connect() client for tlsblame sample captures.
// Node's defaults (rejectUnauthorized: true): OpenSSL runs the handshake with
// verification in "report only" mode and Node checks the result after the
// handshake (tls.js onConnectSecure), destroying the socket on failure.
//   node tlsclient.js host=H port=P sni=NAME ca=FILE [cert=FILE key=FILE] [min=TLSv1.2 max=TLSv1.2] [keylog=FILE]
'use strict';
const tls = require('tls');
const fs = require('fs');
const a = Object.fromEntries(process.argv.slice(2).map((s) => { const i = s.indexOf('='); return [s.slice(0, i), s.slice(i + 1)]; }));
const opts = {
  host: a.host, port: Number(a.port), servername: a.sni,
  ca: fs.readFileSync(a.ca),
  minVersion: a.min || 'TLSv1.2', maxVersion: a.max || 'TLSv1.3',
};
if (a.cert) { opts.cert = fs.readFileSync(a.cert); opts.key = fs.readFileSync(a.key); }
const log = (m) => console.log(`node-client: ${m}`);
const s = tls.connect(opts, () => {
  log(`handshake ok: ${s.getProtocol()} ${s.getCipher().name} authorized=${s.authorized}`);
  s.write('ping from node\n');
});
if (a.keylog) s.on('keylog', (line) => fs.appendFileSync(a.keylog, line));
s.on('data', (d) => { log(`got ${JSON.stringify(d.toString().trim())}`); s.end(); });
s.on('error', (e) => { log(`Error: ${e.message} (${e.code})`); process.exitCode = 1; });
s.setTimeout(5000, () => { log('timeout'); s.destroy(); });

// The official JS SDK (@azure-rest/ai-translation-document) against the emulator over HTTPS:
// a 1,000-document job in "nextLink" mode must list exactly 1,000 distinct documents.
//
//   NODE_EXTRA_CA_CERTS=$DT_EMULATOR_CA DT_EMULATOR_HTTP=... DT_EMULATOR_HTTPS=... node check.js
//
// Prints one JSON line with the figures and exits 0 when every check holds, 1 otherwise.
"use strict";

const sdk = require("@azure-rest/ai-translation-document");

const createClient = sdk.default;
const { paginate, isUnexpected } = sdk;

const http = process.env.DT_EMULATOR_HTTP || "http://127.0.0.1:18480";
const https = process.env.DT_EMULATOR_HTTPS || "https://127.0.0.1:18443";
const key = process.env.DT_EMULATOR_KEY || "doctranslate-emulator-key";
const documents = Number(process.env.SDK_CHECK_DOCUMENTS || 1000);

async function admin(method, path, body) {
  const res = await fetch(`${http}/_emulator${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function listAll(client, jobId) {
  const first = await client.path("/document/batches/{id}/documents", jobId).get();
  if (isUnexpected(first)) throw new Error(`list failed: ${first.status} ${JSON.stringify(first.body)}`);
  const ids = [];
  for await (const doc of paginate(client, first)) ids.push(doc.id);
  return ids;
}

async function main() {
  if (!process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error("NODE_EXTRA_CA_CERTS must name the emulator's CA (DT_EMULATOR_CA)");
  }
  const client = createClient(https, { key });
  const failures = [];

  // the job in nextLink mode: every document, once
  const job = await admin("POST", "/jobs", { documents, fail_every: 7, next_link: "nextLink" });
  const since = (await admin("GET", "/requests")).reduce((m, e) => Math.max(m, e.seq), 0);
  const ids = await listAll(client, job.id);
  const distinct = new Set(ids).size;
  if (ids.length !== documents) failures.push(`listed ${ids.length} documents, expected ${documents}`);
  if (distinct !== documents) failures.push(`listed ${distinct} distinct ids, expected ${documents}`);
  const log = (await admin("GET", `/requests?since=${since}`)).filter((e) => e.path.includes(job.id));
  const pages = log.length;
  if (!log.every((e) => e.tls && e.status === 200)) failures.push("a page was not a 200 over TLS");
  const connections = new Set(log.map((e) => e.connection)).size;

  // the job status through the same client
  const status = await client.path("/document/batches/{id}", job.id).get();
  if (isUnexpected(status) || status.body.summary.total !== documents) {
    failures.push(`job status: ${status.status} ${JSON.stringify(status.body)}`);
  }

  // known limit of this SDK: it follows only "nextLink"; with the real service's "@nextLink"
  // (the emulator's default) it stops after the first page without an error
  const wire = await admin("POST", "/jobs", { documents, next_link: "@nextLink" });
  const wireIds = await listAll(client, wire.id);

  const result = {
    sdk: "@azure-rest/ai-translation-document@" + require("@azure-rest/ai-translation-document/package.json").version,
    job: job.id,
    listed: ids.length,
    distinct,
    pages,
    connections,
    at_nextLink_mode_listed: wireIds.length,
    ok: failures.length === 0,
    failures,
  };
  console.log(JSON.stringify(result));
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, failures: [String(err && err.stack || err)] }));
  process.exit(1);
});

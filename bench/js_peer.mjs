// The JS peer: lists a job's documents with the official REST client
// @azure-rest/ai-translation-document (version pinned in package.json) and
// its own paging helper, the way its README shows.
//
//   node bench/js_peer.mjs ENDPOINT KEY JOB_ID [IDS_FILE]
//
// TLS: the emulator's CA comes from NODE_EXTRA_CA_CERTS.  The ids are written
// to IDS_FILE (one a line) so the driver can check that they are distinct
// without this process holding them.  Prints one line in the format every
// peer shares: docs= distinct= chars= requests= connects= bytes= listing_s=
// (distinct, connects and bytes are -1 here: the driver takes them from its
// own check and from the emulator's log).
import { openSync, writeSync, closeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import sdk from "@azure-rest/ai-translation-document";

const createClient = sdk.default;
const { paginate, isUnexpected } = sdk;

const [endpoint, key, jobId, idsFile] = process.argv.slice(2);
if (!endpoint || !key || !jobId) {
  process.stderr.write("usage: node js_peer.mjs ENDPOINT KEY JOB_ID [IDS_FILE]\n");
  process.exit(2);
}

const started = performance.now();
const client = createClient(endpoint, { key }, { apiVersion: "2024-05-01" });
let requests = 0;
client.pipeline.addPolicy({
  name: "benchRequestCounter",
  sendRequest: (request, next) => {
    requests += 1;
    return next(request);
  },
});

const out = idsFile ? openSync(idsFile, "w") : null;
const first = await client
  .path("/document/batches/{id}/documents", jobId)
  .get({ queryParameters: { maxpagesize: 100 } });
if (isUnexpected(first)) {
  process.stderr.write(`js_peer: HTTP ${first.status}: ${JSON.stringify(first.body)}\n`);
  process.exit(1);
}

let docs = 0;
let chars = 0;
let lines = "";
for await (const doc of paginate(client, first)) {
  const id = doc.id;
  const status = doc.status;
  if (status === undefined) throw new Error(`document ${id} has no status`);
  chars += doc.characterCharged;
  docs += 1;
  lines += id + "\n";
  if (docs % 1000 === 0) {
    if (out !== null) writeSync(out, lines);
    lines = "";
  }
}
if (out !== null) writeSync(out, lines);
if (out !== null) closeSync(out);
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `docs=${docs} distinct=-1 chars=${chars} requests=${requests} connects=-1 bytes=-1 listing_s=${seconds.toFixed(6)}\n`,
);

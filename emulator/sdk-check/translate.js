// The official JS SDK's single-document call (POST /document:translate, multipart) against
// the emulator over HTTPS: a text document with a TSV glossary, and a binary one.
//
//   NODE_EXTRA_CA_CERTS=$DT_EMULATOR_CA DT_EMULATOR_HTTPS=... node translate.js
//
// Prints one JSON line with what came back and exits 0 when every check holds, 1 otherwise.
"use strict";

const sdk = require("@azure-rest/ai-translation-document");

const createClient = sdk.default;
const { isUnexpected } = sdk;

const https = process.env.DT_EMULATOR_HTTPS || "https://127.0.0.1:18443";
const key = process.env.DT_EMULATOR_KEY || "doctranslate-emulator-key";

function bytes(res) {
  const b = res.body;
  if (typeof b === "string") return Buffer.from(b, "utf8");
  return Buffer.from(b);
}

// The raw bytes of an answer read as a Node stream (the SDK decodes a body as text otherwise).
async function streamBytes(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function main() {
  const client = createClient(https, { key });
  const failures = [];

  const text = "the cat sat\nthe dog ran\n";
  const res = await client.path("/document:translate").post({
    contentType: "multipart/form-data",
    queryParameters: { targetLanguage: "fr", sourceLanguage: "en" },
    body: [
      { name: "document", body: text, filename: "a.txt", contentType: "text/plain" },
      { name: "glossary", body: "cat\tchat\n", filename: "terms.tsv", contentType: "text/tab-separated-values" },
    ],
  });
  if (isUnexpected(res)) failures.push(`text: ${res.status} ${JSON.stringify(res.body)}`);
  const got = bytes(res).toString("utf8");
  const want = "[fr] the chat sat\n[fr] the dog ran\n";
  if (got !== want) failures.push(`text: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  if (res.headers["x-metered-usage"] !== String(text.length)) {
    failures.push(`x-metered-usage ${res.headers["x-metered-usage"]}, expected ${text.length}`);
  }

  const bin = Buffer.alloc(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = i % 256;
  const res2 = await client.path("/document:translate").post({
    contentType: "multipart/form-data",
    queryParameters: { targetLanguage: "de" },
    body: [{ name: "document", body: new Uint8Array(bin), filename: "a.pdf", contentType: "application/pdf" }],
  }).asNodeStream();
  if (res2.status !== "200") failures.push(`binary: ${res2.status}`);
  const expected = Buffer.concat([Buffer.from("DTEMU:de\n"), bin]);
  const got2 = await streamBytes(res2.body);
  if (res2.headers["x-metered-usage"] !== String(bin.length)) {
    failures.push(`binary x-metered-usage ${res2.headers["x-metered-usage"]}, expected ${bin.length}`);
  }
  const binaryOk = got2.equals(expected);
  if (!binaryOk) failures.push(`binary: ${got2.length} bytes back, expected ${expected.length} (same bytes)`);

  const result = {
    sdk: "@azure-rest/ai-translation-document@" + require("@azure-rest/ai-translation-document/package.json").version,
    text: got,
    metered: res.headers["x-metered-usage"],
    binary_ok: binaryOk,
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

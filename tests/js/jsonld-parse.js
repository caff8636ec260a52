#!/usr/bin/env node
// jsonld.js as an independent judge: `node jsonld-parse.js FILE` converts the JSON-LD
// document to N-Quads (stdout) in safe mode, with a document loader that refuses every
// fetch: a document that needs a remote context, or that drops data silently (safe mode
// makes lossy expansion an error), fails with exit code 1.
"use strict";
const fs = require("fs");
const jsonld = require("jsonld");

const file = process.argv[2];
if (!file) {
  console.error("usage: jsonld-parse.js FILE");
  process.exit(2);
}
const refuse = async (url) => {
  throw new Error(`refused to fetch ${url}: documents must be self-contained`);
};
(async () => {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(file));
    const doc = JSON.parse(text);
    const nquads = await jsonld.toRDF(doc, {
      format: "application/n-quads",
      safe: true,
      documentLoader: refuse,
    });
    process.stdout.write(nquads);
    console.error(`${nquads.split("\n").filter(Boolean).length} quads`);
  } catch (err) {
    console.error(`jsonld: ${file}: ${err.message}${err.details ? " " + JSON.stringify(err.details).slice(0, 500) : ""}`);
    process.exit(1);
  }
})();

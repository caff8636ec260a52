#!/usr/bin/env node
// N3.js as an independent, strict judge: `node n3-parse.js FORMAT FILE...` parses each FILE
// (FORMAT: turtle | ntriples | nquads | trig), writes what it read as N-Quads to stdout
// (the files one after another), and exits 1 with the parser's message on any error. Bytes
// that are not UTF-8 are an error too (reading with "utf8" would silently replace them).
"use strict";
const fs = require("fs");
const N3 = require("n3");

const MIME = {
  turtle: "text/turtle",
  ntriples: "application/n-triples",
  nquads: "application/n-quads",
  trig: "application/trig",
};
const [format, ...files] = process.argv.slice(2);
if (!MIME[format] || files.length === 0) {
  console.error("usage: n3-parse.js turtle|ntriples|nquads|trig FILE...");
  process.exit(2);
}
const out = [];
for (const file of files) {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(file));
    const quads = new N3.Parser({ format: MIME[format] }).parse(text);
    out.push(new N3.Writer({ format: "N-Quads" }).quadsToString(quads));
    console.error(`${file}: ${quads.length} quads`);
  } catch (err) {
    console.error(`n3: ${file}: ${err.message}`);
    process.exit(1);
  }
}
process.stdout.write(out.join(""));

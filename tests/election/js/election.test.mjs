/**
 * Unit checks of election.mjs that need no Python: encodings, validation messages, proof validity
 * (against an independent transcription of spec check 5) and the Benaloh audit.
 *
 * Run: node --test tests/election/js/
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  GROUP,
  H,
  auditBallot,
  canonical,
  encryptBallot,
  hexOf,
  intOfHex,
  modPow,
  secureRng,
  testRng,
} from "../../../voting/static/voting/js/election.mjs";

const { p, q, g } = GROUP;
const ELECTION_HASH = `00${"ab".repeat(31)}`; // leading zeros: must be hashed as a string, not an integer
const SECRET_KEY = 123456789n;
const KEY = hexOf(modPow(g, SECRET_KEY, p));
const QUESTIONS = [
  {
    id: "q1",
    min_selections: 0,
    max_selections: 1,
    options: [{ id: "yes", text: "はい" }, { id: "no", text: "いいえ" }],
  },
  { id: "q2", min_selections: 1, max_selections: 3, options: ["a", "b", "c", "d", "e"] },
];
const SELECTIONS = { q1: ["yes"], q2: ["b", "e"] };
const request = (overrides = {}) => ({
  electionHash: ELECTION_HASH,
  jointPublicKey: KEY,
  alias: "めぶく-voter-1",
  questions: QUESTIONS,
  selections: SELECTIONS,
  ...overrides,
});

/** Spec check 5, written from the spec text rather than from the encryption code. */
async function rangeProofHolds(proof, lo, hi, alpha, beta, context) {
  const y = intOfHex(KEY);
  if (proof.length !== hi - lo + 1) return false;
  let sum = 0n;
  const commitments = [];
  for (const [k, entry] of proof.entries()) {
    const [a, b, c, r] = ["a", "b", "c", "r"].map((f) => intOfHex(entry[f]));
    const gj = modPow(g, BigInt(lo + k), p);
    const betaOverGj = (beta * modPow(gj, p - 2n, p)) % p;
    if (modPow(g, r, p) !== (a * modPow(alpha, c, p)) % p) return false;
    if (modPow(y, r, p) !== (b * modPow(betaOverGj, c, p)) % p) return false;
    sum += c;
    commitments.push(a, b);
  }
  const { alias, question } = context;
  const challenge = await H("range", ELECTION_HASH, alias, question, alpha, beta, ...commitments);
  return sum % q === challenge;
}

test("hex encoding is lowercase, minimal, and strict on parse", () => {
  assert.equal(hexOf(0n), "0");
  assert.equal(hexOf(255n), "ff");
  assert.equal(hexOf(16), "10");
  assert.equal(intOfHex("ff"), 255n);
  for (const bad of ["", "0ff", "FF", "0x1", "-1", "g"]) {
    assert.throws(() => intOfHex(bad), /canonical lowercase hex/);
  }
  assert.throws(() => hexOf(-1n), /non-negative/);
});

test("canonical JSON matches Python json.dumps(sort_keys, compact, ensure_ascii=False)", () => {
  // Expected strings produced by CPython 3.11 for the same objects.
  assert.equal(canonical({ b: 1, a: [true, null, "x"] }), '{"a":[true,null,"x"],"b":1}');
  const escapes = { "é": "めぶく", e: "\u0001\n\"\\/\u007f\u2028" };
  assert.equal(canonical(escapes), '{"e":"\\u0001\\n\\"\\\\/\u007f\u2028","é":"めぶく"}');
  // Keys in code-point order: U+FF61 sorts before U+1F600 although its UTF-16 unit is larger.
  assert.equal(canonical({ "\u{1F600}": 1, "\uFF61": 2 }), '{"\uFF61":2,"\u{1F600}":1}');
  assert.throws(() => canonical({ x: 1.5 }), /safe integer/);
  assert.throws(() => canonical("\uD800"), /lone surrogate/);
});

test("H hashes integers as hex and strings verbatim", async () => {
  const viaStrings = await H("t", "ff", "x");
  assert.equal(await H("t", 255n, "x"), viaStrings);
  assert.ok(viaStrings < q);
});

test("secureRng and testRng draw below q; testRng is deterministic", async () => {
  const rng = secureRng();
  for (let i = 0; i < 100; i++) assert.ok(rng() < q);
  const [a, b] = [testRng("s"), testRng("s")];
  assert.equal(await a(), await b());
  assert.notEqual(await a(), await testRng("t")());
});

test("every proof of a JS ballot holds and the tracker is the hash of the canonical ballot", async () => {
  const { ballot, tracker, secrets } = await encryptBallot(request());
  assert.equal(ballot.answers.length, 2);
  assert.match(tracker, /^[0-9a-f]{64}$/);
  assert.deepEqual(secrets.map((s) => s.randomness.length), [2, 5]);
  for (const [i, answer] of ballot.answers.entries()) {
    const context = { alias: ballot.alias, question: answer.question };
    let [A, B] = [1n, 1n];
    for (const choice of answer.choices) {
      const [alpha, beta] = [intOfHex(choice.alpha), intOfHex(choice.beta)];
      assert.ok(await rangeProofHolds(choice.proof, 0, 1, alpha, beta, context));
      [A, B] = [(A * alpha) % p, (B * beta) % p];
    }
    const { min_selections: lo, max_selections: hi } = QUESTIONS[i];
    assert.ok(await rangeProofHolds(answer.overall_proof, lo, hi, A, B, context));
    const copied = { ...context, alias: "other" };
    assert.equal(await rangeProofHolds(answer.overall_proof, lo, hi, A, B, copied), false);
  }
});

test("same seed gives the same ballot", async () => {
  const one = await encryptBallot(request({ rng: testRng(7) }));
  const two = await encryptBallot(request({ rng: testRng(7) }));
  assert.equal(canonical(one.ballot), canonical(two.ballot));
});

test("invalid selections are refused with a clear message", async () => {
  const cases = [
    [{ q1: ["yes", "no"] }, /question q1: 2 selected, allowed between 0 and 1/],
    [{ q1: ["maybe"], q2: ["a"] }, /question q1: unknown option "maybe"/],
    [{ q2: [] }, /question q2: 0 selected, allowed between 1 and 3/],
    [{ q2: ["a", "a"] }, /question q2: an option is selected twice/],
    [{ q2: ["a", "b", "c", "d"] }, /question q2: 4 selected, allowed between 1 and 3/],
    [{ q2: ["a"], q9: [] }, /unknown question: q9/],
  ];
  for (const [selections, message] of cases) {
    await assert.rejects(encryptBallot(request({ selections })), message);
  }
  await assert.rejects(encryptBallot(request({ jointPublicKey: "2" })), /not an element of order q/);
  await assert.rejects(encryptBallot(request({ electionHash: "ABC" })), /electionHash/);
});

test("Benaloh audit accepts the honest ballot and catches a swapped vote", async () => {
  const { ballot, secrets } = await encryptBallot(request());
  const audit = (selections) =>
    auditBallot({ ballot, secrets, jointPublicKey: KEY, questions: QUESTIONS, selections });
  const honest = await audit(SELECTIONS);
  assert.deepEqual(honest.problems, []);
  assert.equal(honest.ok, true);
  const cheated = await audit({ q1: ["no"], q2: ["b", "e"] });
  assert.equal(cheated.ok, false);
  assert.deepEqual(cheated.problems, [
    "question q1, option yes: ciphertext does not encrypt 0",
    "question q1, option no: ciphertext does not encrypt 1",
  ]);
});

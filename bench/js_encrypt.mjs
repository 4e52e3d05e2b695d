/**
 * Time browser ballot encryption under Node (same V8 BigInt as Chromium).
 *
 * Usage: node bench/js_encrypt.mjs [rounds]
 * Prints ms per ballot (median, min, max) for a yes/no ballot and a 5-option choose-up-to-3 ballot,
 * both with secureRng(), i.e. the work a voter's browser does.
 */
import { GROUP, encryptBallot, hexOf, modPow, secureRng } from "../voting/static/voting/js/election.mjs";

const ROUNDS = Number(process.argv[2] ?? 20);
const KEY = hexOf(modPow(GROUP.g, secureRng()(), GROUP.p));
const ELECTION_HASH = "ab".repeat(32);
const CASES = {
  "yes/no (choose 1 of 2)": {
    questions: [{ id: "q1", min_selections: 0, max_selections: 1, options: ["yes", "no"] }],
    selections: { q1: ["yes"] },
  },
  "5 options, choose up to 3": {
    questions: [{ id: "q1", min_selections: 0, max_selections: 3, options: ["a", "b", "c", "d", "e"] }],
    selections: { q1: ["a", "d"] },
  },
};

async function timeOne({ questions, selections }) {
  const start = performance.now();
  const election = { electionHash: ELECTION_HASH, jointPublicKey: KEY, alias: "bench" };
  await encryptBallot({ ...election, questions, selections });
  return performance.now() - start;
}

async function main() {
  console.log(`node ${process.version}, ${ROUNDS} rounds after 2 warm-up ballots`);
  for (const [name, ballot] of Object.entries(CASES)) {
    for (let i = 0; i < 2; i++) await timeOne(ballot);
    const times = [];
    for (let i = 0; i < ROUNDS; i++) times.push(await timeOne(ballot));
    times.sort((a, b) => a - b);
    const fmt = (x) => x.toFixed(1);
    const [median, min, max] = [times[times.length >> 1], times[0], times.at(-1)].map(fmt);
    console.log(`${name}: median ${median} ms, min ${min} ms, max ${max} ms`);
  }
}

await main();

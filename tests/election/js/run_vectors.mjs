/**
 * Reproduce the Python-generated test vectors in JS.
 *
 * Usage: node tests/election/js/run_vectors.mjs tests/election/vectors/ballots.json
 *
 * Prints a JSON list, one entry per case: {seed, ballot, canonical, tracker, matches}. `canonical` is
 * the exact string JS hashes, so the Python test can compare bytes rather than re-serialise. Exits 1
 * when any case differs from its expected_ballot / expected_tracker, naming the cases on stderr.
 */
import { readFileSync } from "node:fs";
import { canonical, encryptBallot, testRng } from "../../../voting/static/voting/js/election.mjs";

/** One vector case, encrypted with the contract's deterministic stream for its seed. */
async function runCase(vector) {
  const { ballot, tracker } = await encryptBallot({
    electionHash: vector.election_hash,
    jointPublicKey: vector.joint_public_key,
    alias: vector.alias,
    questions: vector.questions,
    selections: vector.selections,
    rng: testRng(vector.seed),
  });
  const text = canonical(ballot);
  const matches = text === canonical(vector.expected_ballot) && tracker === vector.expected_tracker;
  return { seed: vector.seed, ballot, canonical: text, tracker, matches };
}

async function main(path) {
  if (!path) throw new Error("usage: run_vectors.mjs VECTORS.json");
  const vectors = JSON.parse(readFileSync(path, "utf8"));
  const results = [];
  for (const vector of vectors) results.push(await runCase(vector));
  process.stdout.write(`${JSON.stringify(results)}\n`);
  const failed = results.filter((r) => !r.matches).map((r) => r.seed);
  if (failed.length > 0) {
    const summary = `mismatch in ${failed.length}/${results.length} cases`;
    process.stderr.write(`${summary}, seeds: ${JSON.stringify(failed)}\n`);
    process.exitCode = 1;
  }
}

main(process.argv[2]).catch((error) => {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 2;
});

/**
 * Encrypt one ballot from a JSON request on stdin, so Python tests can check that ballots made by the
 * browser code verify on the server.
 *
 * Request: {election_hash, joint_public_key, alias, questions, selections, seed?}
 * Without `seed` the ballot uses secureRng(), i.e. exactly what a browser would do; with it, the
 * contract's test stream. Prints the ballot's canonical JSON on stdout; on invalid input prints
 * "error: <reason>" on stderr and exits 2.
 */
import { canonical, encryptBallot, secureRng, testRng } from "../../../voting/static/voting/js/election.mjs";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const request = JSON.parse(await readStdin());
  const { ballot } = await encryptBallot({
    electionHash: request.election_hash,
    jointPublicKey: request.joint_public_key,
    alias: request.alias,
    questions: request.questions,
    selections: request.selections,
    rng: request.seed === undefined ? secureRng() : testRng(request.seed),
  });
  process.stdout.write(`${canonical(ballot)}\n`);
}

main().catch((error) => {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 2;
});

/**
 * Optional: a trustee makes their key pair in this browser instead of with the trustee tool.
 *
 * The secret is drawn here with the browser's cryptographic random source and leaves this page only
 * as the key file the trustee saves (the same `mebuku-trustee-key/1` format `python -m
 * voting.trustee keygen` writes, so the tool decrypts with it later). Only the public part and its
 * Schnorr proof of knowledge (spec check 2: c = H("pok", y, commitment), g^response = commitment·y^c)
 * are put into the upload form.
 */

import { GROUP, H, hexOf, modPow, secureRng } from "./election.mjs";

export const KEY_FORMAT = "mebuku-trustee-key/1";

/** A key pair: the key file to save and the public part to upload. */
export async function makeKeyPair(rng = secureRng()) {
  let secret = 0n;
  while (secret === 0n) secret = await rng(); // y = 1 would be refused by check 2
  const publicKey = modPow(GROUP.g, secret, GROUP.p);
  const w = await rng();
  const commitment = modPow(GROUP.g, w, GROUP.p);
  const challenge = await H("pok", publicKey, commitment);
  const response = (w + challenge * secret) % GROUP.q;
  return {
    keyFile: { format: KEY_FORMAT, public_key: hexOf(publicKey), secret_key: hexOf(secret) },
    upload: {
      public_key: hexOf(publicKey),
      pok: { commitment: hexOf(commitment), challenge: hexOf(challenge), response: hexOf(response) },
    },
  };
}

function main() {
  const root = document.querySelector("[data-browser-keygen]");
  const source = document.getElementById("keygen-data");
  if (!root || !source) return;
  const text = JSON.parse(source.textContent);
  const status = root.querySelector("[data-keygen-status]");
  const make = root.querySelector("[data-action=keygen]");
  const save = root.querySelector("[data-key-download]");
  const done = root.querySelector("[data-keygen-done]");
  const target = document.getElementById(text.target);
  let upload = null;
  root.hidden = false;

  make.addEventListener("click", async () => {
    make.disabled = true;
    status.textContent = text.working;
    try {
      const pair = await makeKeyPair();
      upload = pair.upload;
      const blob = new Blob([`${JSON.stringify(pair.keyFile, null, 2)}\n`], { type: "application/json" });
      if (save.href) URL.revokeObjectURL(save.href);
      save.href = URL.createObjectURL(blob);
      done.hidden = false;
      status.textContent = text.made;
      save.focus();
    } catch (error) {
      status.textContent = `${text.failed} (${error.message})`;
      make.disabled = false;
    }
  });

  // Only once the key file was saved does the public part go into the form.
  save.addEventListener("click", () => {
    if (!upload) return;
    target.value = JSON.stringify(upload, null, 2);
    status.textContent = text.saved;
    window.setTimeout(() => {
      URL.revokeObjectURL(save.href);
      save.removeAttribute("href");
    }, 60_000);
  });
}

if (typeof document !== "undefined") main();

/**
 * The ballot page: choose → check the choices read back → encrypt in this browser → cast or audit.
 *
 * The page (templates/voting/ballot.html) is rendered by the server with every label and message
 * already translated; this module only shows and hides its steps, fills in the read-back, the
 * tracker and an audit's revealed randomness (textContent only), and talks to the cast and audit
 * endpoints. The choices never leave the browser in the clear: encryption is `election.mjs`, and
 * what is posted is the encrypted ballot with its proofs — except for an audited ballot, whose
 * choices and randomness are revealed on purpose so that anyone can check it, and which can never
 * be cast.
 */

import { auditBallot, encryptBallot } from "./election.mjs";

// ---------------------------------------------------------------------------------------------
// Pure helpers (no DOM): tested from Node in tests/voting.
// ---------------------------------------------------------------------------------------------

/**
 * Check the selections against each question's bounds. Returns one problem per question that is
 * out of bounds: {question, kind: "too_few" | "too_many", min, max, chosen}.
 */
export function selectionProblems(questions, selections) {
  const problems = [];
  for (const question of questions) {
    const chosen = (selections[question.id] ?? []).length;
    const { min_selections: min, max_selections: max } = question;
    if (chosen < min) problems.push({ question: question.id, kind: "too_few", min, max, chosen });
    else if (chosen > max) problems.push({ question: question.id, kind: "too_many", min, max, chosen });
  }
  return problems;
}

/** Fill `%(name)s` placeholders of a server-translated message. */
export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The tracker split in groups of eight hex digits, easier to read aloud and compare. */
export function groupedTracker(tracker) {
  return tracker.match(/.{1,8}/g).join(" ");
}

/** The start of a long hex number, for a table; the JSON below it has the whole number. */
export function abbreviated(hex, digits = 16) {
  return hex.length > digits ? `${hex.slice(0, digits)}…` : hex;
}

/** The message a refusal from the server should show: its own message when it sent one. */
export async function refusalMessage(response, fallback) {
  try {
    const body = await response.json();
    if (body && typeof body.message === "string" && body.message) return body.message;
  } catch {
    // Not JSON (a proxy's error page): fall through.
  }
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

const STEPS = ["choose", "confirm", "encrypted", "cast", "audited"];

class BallotPage {
  constructor(root, data) {
    this.root = root;
    this.data = data;
    this.text = data.messages;
    this.form = root.querySelector("[data-ballot-form]");
    this.encrypted = null; // {ballot, tracker, secrets, selections}
    this.busy = false;
  }

  $(selector) {
    return this.root.querySelector(selector);
  }

  start() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.review();
    });
    this.form.addEventListener("change", () => this.clearErrorsIfFixed());
    this.$("[data-action=change]").addEventListener("click", () => this.show("choose"));
    this.$("[data-action=encrypt]").addEventListener("click", () => this.encrypt());
    this.$("[data-action=cast]").addEventListener("click", () => this.cast());
    this.$("[data-action=audit]").addEventListener("click", () => this.audit());
    for (const again of this.root.querySelectorAll("[data-action=restart]")) {
      again.addEventListener("click", () => this.restart());
    }
    this.root.hidden = false;
    this.show("choose", { focus: false });
  }

  /** Show one step, hide the others, and move focus to its heading so screen readers follow. */
  show(step, { focus = true } = {}) {
    for (const name of STEPS) this.$(`[data-step=${name}]`).hidden = name !== step;
    this.root.dataset.current = step;
    if (focus) this.$(`[data-step=${step}] h2`).focus();
  }

  status(step, message, { error = false } = {}) {
    const box = this.$(`[data-step=${step}] [data-status]`);
    box.textContent = message;
    box.classList.toggle("error", error);
  }

  // Step 1: choose -----------------------------------------------------------------------------

  selections() {
    const chosen = {};
    for (const question of this.data.questions) {
      const inputs = this.form.querySelectorAll(`[data-question="${CSS.escape(question.id)}"] input`);
      chosen[question.id] = Array.from(inputs)
        .filter((input) => input.checked && input.value !== "")
        .map((input) => input.value);
    }
    return chosen;
  }

  fieldset(questionId) {
    return this.form.querySelector(`[data-question="${CSS.escape(questionId)}"]`);
  }

  showErrors(problems) {
    for (const question of this.data.questions) {
      const fieldset = this.fieldset(question.id);
      const error = fieldset.querySelector("[data-error]");
      const problem = problems.find((p) => p.question === question.id);
      error.hidden = !problem;
      error.textContent = problem ? format(this.text[problem.kind], problem) : "";
      fieldset.classList.toggle("field-error", Boolean(problem));
      for (const input of fieldset.querySelectorAll("input")) {
        if (problem) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    }
    const summary = this.$("[data-error-summary]");
    summary.hidden = problems.length === 0;
    if (problems.length) {
      summary.querySelector("[data-error-count]").textContent = format(this.text.summary, {
        count: problems.length,
      });
      this.fieldset(problems[0].question).querySelector("input").focus();
    }
  }

  clearErrorsIfFixed() {
    if (this.$("[data-error-summary]").hidden) return;
    const problems = selectionProblems(this.data.questions, this.selections());
    // Only take errors away while the voter fixes them; new ones appear on "Next".
    const shown = new Set(
      Array.from(this.form.querySelectorAll("fieldset.field-error"), (f) => f.dataset.question),
    );
    const remaining = problems.filter((p) => shown.has(p.question));
    for (const question of shown) {
      if (!remaining.some((p) => p.question === question)) {
        const fieldset = this.fieldset(question);
        fieldset.classList.remove("field-error");
        fieldset.querySelector("[data-error]").hidden = true;
        for (const input of fieldset.querySelectorAll("input")) input.removeAttribute("aria-invalid");
      }
    }
    if (remaining.length === 0) this.$("[data-error-summary]").hidden = true;
  }

  // Step 2: the choices read back --------------------------------------------------------------

  review() {
    const selections = this.selections();
    const problems = selectionProblems(this.data.questions, selections);
    this.showErrors(problems);
    if (problems.length) return;
    const list = this.$("[data-readback]");
    list.replaceChildren();
    for (const question of this.data.questions) {
      const term = document.createElement("dt");
      term.textContent = question.text;
      const chosen = question.options.filter((o) => selections[question.id].includes(o.id));
      const answer = document.createElement("dd");
      if (chosen.length === 0) {
        answer.textContent = this.text.blank;
      } else {
        const items = document.createElement("ul");
        for (const option of chosen) {
          const item = document.createElement("li");
          item.textContent = option.text;
          items.append(item);
        }
        answer.append(items);
      }
      list.append(term, answer);
    }
    this.selectionsToEncrypt = selections;
    this.status("confirm", "");
    this.show("confirm");
  }

  // Step 3: encrypt, then cast or audit --------------------------------------------------------

  async encrypt() {
    if (this.busy) return;
    this.busy = true;
    const button = this.$("[data-action=encrypt]");
    button.disabled = true;
    this.status("confirm", this.text.encrypting);
    try {
      const selections = this.selectionsToEncrypt;
      const { ballot, tracker, secrets } = await encryptBallot({
        electionHash: this.data.election_hash,
        jointPublicKey: this.data.joint_public_key,
        alias: this.data.alias,
        questions: this.data.questions,
        selections,
      });
      this.encrypted = { ballot, tracker, secrets, selections };
      for (const slot of this.root.querySelectorAll("[data-tracker]")) {
        slot.textContent = groupedTracker(tracker);
      }
      this.status("encrypted", "");
      this.show("encrypted");
    } catch (error) {
      this.status("confirm", `${this.text.encrypt_failed} (${error.message})`, { error: true });
    } finally {
      button.disabled = false;
      this.busy = false;
    }
  }

  async post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": this.data.csrf_token,
      },
      body: JSON.stringify(payload),
    });
  }

  setActionsDisabled(disabled) {
    for (const button of this.$("[data-step=encrypted]").querySelectorAll("button")) {
      button.disabled = disabled;
    }
  }

  async cast() {
    if (this.busy || !this.encrypted) return;
    this.busy = true;
    this.setActionsDisabled(true);
    this.status("encrypted", this.text.casting);
    try {
      const response = await this.post(this.data.cast_url, this.encrypted.ballot);
      if (!response.ok) {
        this.status("encrypted", await refusalMessage(response, this.text.cast_failed), { error: true });
        return;
      }
      const body = await response.json();
      const tracker = body.tracker ?? this.encrypted.tracker;
      for (const slot of this.root.querySelectorAll("[data-tracker]")) {
        slot.textContent = groupedTracker(tracker);
      }
      const link = this.$("[data-board-link]");
      link.href = `${this.data.board_url}?tracker=${encodeURIComponent(tracker)}`;
      this.encrypted = null; // a cast ballot is done with; nothing of it stays on the page
      this.show("cast");
    } catch (error) {
      this.status("encrypted", `${this.text.network} (${error.message})`, { error: true });
    } finally {
      this.setActionsDisabled(false);
      this.busy = false;
    }
  }

  async audit() {
    if (this.busy || !this.encrypted) return;
    this.busy = true;
    this.setActionsDisabled(true);
    this.status("encrypted", this.text.auditing);
    const { ballot, tracker, secrets, selections } = this.encrypted;
    try {
      // Once the randomness is shown, this ballot must never be cast: forget it before anything else.
      this.encrypted = null;
      const check = await auditBallot({
        ballot,
        secrets,
        jointPublicKey: this.data.joint_public_key,
        questions: this.data.questions,
        selections,
      });
      this.fillAudit(ballot, tracker, secrets, selections, check);
      const response = await this.post(this.data.audit_url, { ballot, randomness: secrets });
      const posted = this.$("[data-audit-posted]");
      if (response.ok) {
        const body = await response.json();
        this.fillServerFindings(body.selections ?? {});
        this.$("[data-audit-link]").href = this.data.audited_url.replace("__tracker__", body.tracker ?? tracker);
        posted.hidden = false;
        this.status("audited", "");
      } else {
        posted.hidden = true;
        this.status("audited", await refusalMessage(response, this.text.audit_failed), { error: true });
      }
      this.show("audited");
    } catch (error) {
      this.status("audited", `${this.text.network} (${error.message})`, { error: true });
      this.show("audited");
    } finally {
      this.setActionsDisabled(false);
      this.busy = false;
    }
  }

  fillAudit(ballot, tracker, secrets, selections, check) {
    this.$("[data-audit-result]").textContent = check.ok ? this.text.audit_ok : this.text.audit_bad;
    this.$("[data-audit-result]").classList.toggle("status-ok", check.ok);
    this.$("[data-audit-result]").classList.toggle("error", !check.ok);
    const problems = this.$("[data-audit-problems]");
    problems.replaceChildren(
      ...check.problems.map((text) => {
        const item = document.createElement("li");
        item.textContent = text;
        return item;
      }),
    );
    const body = this.$("[data-audit-rows]");
    body.replaceChildren();
    this.data.questions.forEach((question, qi) => {
      question.options.forEach((option, oi) => {
        const row = document.createElement("tr");
        const cells = [
          question.text,
          option.text,
          selections[question.id].includes(option.id) ? "1" : "0",
          secrets[qi].randomness[oi],
          abbreviated(ballot.answers[qi].choices[oi].alpha),
          abbreviated(ballot.answers[qi].choices[oi].beta),
        ];
        cells.forEach((value, i) => {
          const cell = document.createElement(i < 2 ? "th" : "td");
          if (i < 2) cell.scope = "row";
          if (i >= 3) {
            const code = document.createElement("code");
            code.className = "hash";
            code.textContent = value;
            cell.append(code);
          } else {
            cell.textContent = value;
          }
          row.append(cell);
        });
        body.append(row);
      });
    });
    this.$("[data-audit-json]").textContent = JSON.stringify(
      { tracker, ballot, randomness: secrets, selections, joint_public_key: this.data.joint_public_key },
      null,
      2,
    );
  }

  /** What the server found in the ballot with the revealed randomness, in the voter's words. */
  fillServerFindings(found) {
    const list = this.$("[data-audit-server]");
    list.replaceChildren();
    for (const question of this.data.questions) {
      const chosen = question.options.filter((o) => (found[question.id] ?? []).includes(o.id));
      const term = document.createElement("dt");
      term.textContent = question.text;
      const answer = document.createElement("dd");
      answer.textContent = chosen.length ? chosen.map((o) => o.text).join(" / ") : this.text.blank;
      list.append(term, answer);
    }
  }

  restart() {
    this.encrypted = null;
    this.selectionsToEncrypt = null;
    // The choices stay ticked: starting over encrypts them again, with new random numbers.
    this.$("[data-readback]").replaceChildren();
    this.$("[data-audit-rows]").replaceChildren();
    this.$("[data-audit-json]").textContent = "";
    this.$("[data-audit-server]").replaceChildren();
    this.$("[data-audit-posted]").hidden = true;
    for (const slot of this.root.querySelectorAll("[data-tracker]")) slot.textContent = "";
    this.show("choose");
  }
}

function main() {
  const root = document.querySelector("[data-ballot]");
  const source = document.getElementById("ballot-data");
  if (!root || !source) return;
  const page = new BallotPage(root, JSON.parse(source.textContent));
  page.start();
}

if (typeof document !== "undefined") main();

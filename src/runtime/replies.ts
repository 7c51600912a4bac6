// Answers to commands: whoever asks (the control socket, the HTTP API, the library) opens a reply slot,
// sends its command into the loop with the slot's number, and gets the loop's answer in its callback.
import type { CommandAnswer } from "../core/stack/commands.js";
import type { ReplyTo } from "../core/stack/inputs.js";

export class Replies {
  readonly #waiting = new Map<ReplyTo, (answer: CommandAnswer) => void>();
  #next = 1;

  open(onAnswer: (answer: CommandAnswer) => void): ReplyTo {
    const to = this.#next++;
    this.#waiting.set(to, onAnswer);
    return to;
  }

  answer(to: ReplyTo, answer: CommandAnswer): void {
    const onAnswer = this.#waiting.get(to);
    this.#waiting.delete(to);
    onAnswer?.(answer);
  }

  /** Answers every open request (the supervisor is closing). */
  closeAll(answer: CommandAnswer): void {
    for (const to of [...this.#waiting.keys()]) this.answer(to, answer);
  }
}

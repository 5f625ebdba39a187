/**
 * A container's output shown on the user's terminal must not drive that terminal: an escape
 * sequence could set the window title, write the clipboard (OSC 52), clear the screen or
 * fake a prompt. So control characters are shown as text (ESC as `\x1b`), as `cat -v` shows
 * them, except newline, tab and the carriage return of a "\r\n" line end (what a container
 * with a terminal writes), which only move the cursor the way text does.
 */
import { StringDecoder } from 'node:string_decoder';

/**
 * C0 controls but \t and \n, a \r not followed by \n, DEL, and the C1 controls
 * (U+0080-U+009F: 8-bit CSI, OSC, ...).
 */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)/g;

function escapeOne(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Turns one stream's chunks into text a terminal shows but does not obey. A UTF-8 character
 * or a "\r\n" split across two chunks is kept whole; bytes that are not UTF-8 show as U+FFFD.
 */
export class ControlEscaper {
  readonly #decoder = new StringDecoder('utf8');
  /** A \r that ended the last chunk: whether it is a line end depends on the next one. */
  #heldReturn = '';

  write(data: Uint8Array): string {
    let text = this.#heldReturn + this.#decoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#heldReturn = '';
    if (text.endsWith('\r')) {
      this.#heldReturn = '\r';
      text = text.slice(0, -1);
    }
    return text.replace(CONTROL, escapeOne);
  }

  end(): string {
    const text = this.#heldReturn + this.#decoder.end();
    this.#heldReturn = '';
    return text.replace(CONTROL, escapeOne);
  }
}

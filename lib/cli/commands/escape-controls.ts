/**
 * A container's output shown on the user's terminal must not drive that terminal: an escape
 * sequence could set the window title, write the clipboard (OSC 52), clear the screen or
 * fake a prompt. So control characters are shown as text (ESC as `\x1b`), as `cat -v` shows
 * them, except newline and tab, which only move the cursor the way text does.
 */
import { StringDecoder } from 'node:string_decoder';

/** C0 controls but \t and \n, DEL, and the C1 controls (U+0080-U+009F: 8-bit CSI, OSC, ...). */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

function escapeOne(char: string): string {
  return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Turns one stream's chunks into text a terminal shows but does not obey. A UTF-8 character
 * split across two chunks is kept whole; bytes that are not UTF-8 show as U+FFFD.
 */
export class ControlEscaper {
  readonly #decoder = new StringDecoder('utf8');

  write(data: Uint8Array): string {
    return this.#decoder.write(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).replace(CONTROL, escapeOne);
  }

  end(): string {
    return this.#decoder.end().replace(CONTROL, escapeOne);
  }
}

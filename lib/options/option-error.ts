/**
 * A bad option: a TypeError whose message starts with the option's path. A NUL from the value
 * (a key, a name) is shown escaped: a message is text, never a raw NUL.
 */
export function fail(where: string, what: string): never {
  throw new TypeError(`${where}: ${what}`.replace(/\0/g, '\\0'));
}

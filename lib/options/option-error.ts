/** A bad option: a TypeError whose message starts with the option's path. */
export function fail(where: string, what: string): never {
  throw new TypeError(`${where}: ${what}`);
}

/**
 * Symbol.asyncDispose, for `await using`: Node 20 defines it in its main
 * context, but not every context a library is loaded in has it (jest's vm
 * sandboxes do not). Node's own value is the registered symbol below.
 */
const symbols = Symbol as unknown as { asyncDispose?: symbol; dispose?: symbol };
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
symbols.dispose ??= Symbol.for('nodejs.dispose');
export {};

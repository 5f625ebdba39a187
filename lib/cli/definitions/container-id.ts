/**
 * The rule of the library (lib/options/validate.ts) for ids, checked on ids given as arguments:
 * 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit.
 */
export const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

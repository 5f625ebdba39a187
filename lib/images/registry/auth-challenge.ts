/**
 * The WWW-Authenticate challenge of a 401 reply (RFC 7235), as registries send it:
 * `Bearer realm="https://auth/token",service="registry",scope="repository:a/b:pull"` or
 * `Basic realm="..."`.
 */
export interface AuthChallenge {
  /** Lower case: "bearer", "basic". */
  scheme: string;
  params: Record<string, string>;
}

/** The challenges of one header value (several schemes may be offered, comma separated). */
export function parseAuthChallenges(header: string | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  const token = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
  let i = 0;
  const skipSpace = () => {
    while (i < header.length && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  while (i < header.length) {
    skipSpace();
    token.lastIndex = i;
    const scheme = token.exec(header);
    if (!scheme) break;
    i = token.lastIndex;
    const current: AuthChallenge = { scheme: scheme[0].toLowerCase(), params: {} };
    challenges.push(current);
    // auth-params: name=value or name="quoted", until the next scheme (a token not followed by '=').
    for (;;) {
      skipSpace();
      token.lastIndex = i;
      const name = token.exec(header);
      if (!name) break;
      let j = token.lastIndex;
      while (header[j] === ' ') j++;
      if (header[j] !== '=') break; // a new scheme starts here
      j++;
      while (header[j] === ' ') j++;
      let value = '';
      if (header[j] === '"') {
        j++;
        while (j < header.length && header[j] !== '"') {
          if (header[j] === '\\' && j + 1 < header.length) j++;
          value += header[j++];
        }
        j++;
      } else {
        token.lastIndex = j;
        const bare = token.exec(header);
        value = bare ? bare[0] : '';
        j = bare ? token.lastIndex : j;
      }
      current.params[name[0].toLowerCase()] = value;
      i = j;
    }
  }
  return challenges;
}

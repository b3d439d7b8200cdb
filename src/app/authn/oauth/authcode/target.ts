/**
 * Where the browser goes after login: a path of this site, never another site. AILERON checks the target only
 * against `redirectPathPattern` (default `^/.*$`), which lets `//evil.example` and `/\evil.example` through:
 * browsers read both as another host (a protocol-relative URL; WHATWG URL treats `\` as `/` in http URLs), an
 * open redirect (aileron-app.md §1.7 [QUIRK]). Here a target must first be an origin-relative path: one leading
 * `/` not followed by `/` or `\`, and no control characters, backslashes or whitespace anywhere (browsers drop
 * tabs and newlines from URLs, so `/\t/evil.example` is `//evil.example` to them). Then the pattern applies.
 */
import { goRegExp } from '../../../../core/common/match.ts';

/** A path that a browser resolves against this site, whatever follows. */
export function isSitePath(target: string): boolean {
  if (target.length === 0 || target.length > 2048) return false;
  if (target[0] !== '/') return false;
  if (target[1] === '/' || target[1] === '\\') return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  return !/[\x00-\x20\x7f\\]/.test(target);
}

/** The post-login target check: a site path that matches the configured pattern. */
export class RedirectTargets {
  readonly #pattern: RegExp;

  constructor(pattern: string) {
    // AILERON's pattern is a Go (RE2) regular expression, checked at start-up.
    this.#pattern = goRegExp(pattern);
  }

  allows(target: string): boolean {
    return isSitePath(target) && this.#pattern.test(target);
  }
}

/** JSON pointer escaping of one reference token (RFC 6901). */
export function pointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

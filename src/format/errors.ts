/** A structure that cannot be decoded: the message names the structure, field and offset. */
export class FormatError extends Error {
  override name = 'FormatError';
}

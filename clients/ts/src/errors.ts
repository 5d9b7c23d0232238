/**
 * The SDK's error base class. Every error the SDK throws on purpose is an `I8o8iError` subclass
 * whose `kind` names what went wrong (mirroring the variant names of the Rust error enums), so
 * callers can `switch (e.kind)` instead of matching message text.
 */
export class I8o8iError<K extends string = string> extends Error {
  /** What went wrong, as the name of the matching Rust error variant where there is one. */
  readonly kind: K;
  /** Structured details (input index, counts, keys…), the fields of the Rust variant. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(kind: K, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
    this.details = details;
  }
}

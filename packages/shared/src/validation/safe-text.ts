/**
 * Text that reaches receivers' logs and terminals must not carry C0/C1 control characters (NUL, BEL, ESC and
 * its ANSI sequences, DEL, ...) nor the Unicode bidirectional embedding, override and isolate characters
 * (U+202A-U+202E, U+2066-U+2069) that make text display differently from what it is ("Trojan Source").
 * The plain direction marks (U+200E, U+200F, U+061C) stay allowed: right-to-left names need them.
 * A JSON Schema `pattern`, so the rule is in the published schemas (OpenAPI) too.
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u202A-\\u202E\\u2066-\\u2069]*$';

export const SAFE_TEXT_MESSAGE = 'must not contain control characters or bidirectional override characters';

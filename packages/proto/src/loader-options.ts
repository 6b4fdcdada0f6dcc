/**
 * The message mapping, as proto-loader's options name it; the gen script derives the type generator's
 * flags from it so the checked-in types describe exactly what the codecs produce. 64-bit integers
 * become decimal strings (no precision loss), bytes stay Buffers, absent fields get their proto3 defaults.
 */
export const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
} as const;

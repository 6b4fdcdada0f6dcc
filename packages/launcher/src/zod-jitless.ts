// Imported first by main.ts: zod compiles a parser per object schema on first use, and decides whether to
// when the schema is built, at import. The launcher parses a VMI now and then and a domain per event, under
// --lite-mode (no optimizing compiler), so generating code costs more than it saves.
import * as z from 'zod/mini';

z.config({ jitless: true });

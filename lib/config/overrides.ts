// `--set key=value` overrides and per-field checks, both read from the schema (schema.ts): a wrong
// key or value is an error naming the field and its allowed values.
import { CrossflowError, invalidValue } from '../errors';
import { FIELDS, Field, fieldOf, SETTABLE_KEYS, TrainConfig } from './schema';

/** The value at a dotted path ('model.width'); undefined where the path leaves the object. */
export function getPath(obj: object, key: string): unknown {
  return key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]] = value;
}

/** Dotted paths of the leaf fields whose values differ between two configs (fields present in either). */
export function configDifferences(a: unknown, b: unknown, prefix = ''): string[] {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObj(a) || !isObj(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => configDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

function unknownKey(key: string): CrossflowError {
  return invalidValue('config key', key, SETTABLE_KEYS.join(', '));
}

function check(field: Field, value: unknown, shown: unknown = value): void {
  if (!field.schema.safeParse(value).success) throw invalidValue(field.key, shown, field.info.allowed);
}

/** Checks one field's value; throws naming the field and its allowed values. */
export function checkField(key: string, value: unknown): void {
  const field = fieldOf(key);
  if (!field) throw unknownKey(key);
  check(field, value);
}

/** Checks every field of a config on its own, in schema order (validateConfig then checks their combinations). */
export function checkFields(c: TrainConfig): void {
  for (const field of FIELDS) check(field, getPath(c, field.key));
}

/** The config key a "key=value" override names, as applyOverrides reads it (null without a key). */
export function overrideKey(set: string): string | null {
  const eq = set.indexOf('=');
  return eq > 0 ? set.slice(0, eq).trim() : null;
}

/** Applies `key=value` strings (numbers parsed for numeric fields) to a copy of `config`. */
export function applyOverrides(config: TrainConfig, sets: string[]): TrainConfig {
  const out = JSON.parse(JSON.stringify(config)) as TrainConfig;
  for (const s of sets) {
    const key = overrideKey(s);
    if (key === null) throw new CrossflowError(`--set expects key=value, got ${JSON.stringify(s)}; keys: ${SETTABLE_KEYS.join(', ')}`);
    const field = fieldOf(key);
    if (!field) throw unknownKey(key);
    if (field.info.fixed !== undefined)
      throw new CrossflowError(`${key} is fixed at ${JSON.stringify(field.info.default)} (${field.info.fixed}); it is not a --set key`);
    const raw = s.slice(s.indexOf('=') + 1).trim();
    const value = field.info.fromText(raw);
    // A text that is no number is shown as typed ('abc'), not as JSON's null for NaN; so is a list.
    check(field, value, Array.isArray(value) || (typeof value === 'number' && !Number.isFinite(value)) ? raw : value);
    setPath(out as unknown as Record<string, unknown>, key, value);
  }
  return out;
}

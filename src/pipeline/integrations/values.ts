import { RE2JS } from 're2js';
import type { DataType } from '../../storage/delivery-contract.js';
import { valueProblems } from '../parameter-validation.js';

/**
 * Values of integration parameters: endpoint.json defaults and sign-up values. Unlike the
 * parameters API, these accept the string forms the original hub's sign-up form posted
 * ("5", "true", a list as JSON text) and turn them into the declared type once, here; what is
 * stored is then typed JSON like any other parameter.
 */

export type Coerced = { ok: true; value: unknown } | { ok: false; problem: string };

const INTEGER = /^\s*[+-]?\d+\s*$/;
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

export function coerceValue(value: unknown, type: DataType): Coerced {
  let v = value;
  if (typeof value === 'string') {
    if (type === 'integer' && INTEGER.test(value)) v = Number(value);
    else if (type === 'float' && DECIMAL.test(value)) v = Number(value);
    else if (type === 'boolean' && (value === 'true' || value === 'false')) v = value === 'true';
    else if (type === 'list') {
      try {
        v = JSON.parse(value);
      } catch {
        return { ok: false, problem: 'must be an array of objects (or its JSON text)' };
      }
    }
  } else if (type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    v = String(value);
  }
  const problems = valueProblems(v, type);
  if (problems.length > 0) {
    const [suffix, reason] = problems[0]!;
    return { ok: false, problem: suffix ? `${suffix.slice(1)}: ${reason}` : reason };
  }
  return { ok: true, value: v };
}

/** Why a value is not among the allowed ones (an array of strings, or a regular expression). */
export function allowedProblem(value: unknown, allowed: string[] | string | null): string | null {
  if (allowed === null || Array.isArray(value)) return null;
  const text = String(value);
  if (Array.isArray(allowed)) {
    return allowed.length === 0 || allowed.includes(text) ? null : `must be one of ${allowed.join(', ')}`;
  }
  return compileAllowed(allowed)?.test(text) === false ? `must match ${allowed}` : null;
}

/** The compiled `allowed` pattern (RE2: linear time on untrusted input), or undefined if it is invalid. */
export function compileAllowed(pattern: string): RE2JS | undefined {
  try {
    return RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
}

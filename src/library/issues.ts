import type { ErrorObject } from 'ajv/dist/2020.js';

/** One problem with a message, located by a JSON pointer from the message root (e.g. "/payload/order/number"). */
export interface SchemaIssue {
  pointer: string;
  message: string;
}

/** Checks a payload; returns [] when it is valid. */
export type PayloadValidator = (payload: unknown) => SchemaIssue[];

/**
 * Turning Ajv errors into issues.
 *
 * With `allErrors: false` Ajv stops at the first failure, except inside unions (anyOf, oneOf, …) where every
 * branch is tried and each failed branch leaves its own errors behind, followed by the union's own error. The
 * error list is therefore a flattened tree written in post-order: the last error is the root, and a union's
 * branches precede it. We rebuild that tree from the end, using the branch counts that `verbose` errors carry
 * (`error.schema` is the branch array), instead of schemaPath prefixes: schemaPath restarts inside every
 * `$ref`'d schema, so prefixes cannot tell which branch an error came from.
 *
 * A failed union reports only the branch that got furthest into the data (deepest instancePath). When branches
 * tie, the schema's `x-message` (our own annotation keyword, ignored by Ajv in non-strict mode) wins; failing
 * that, ties of `required` or `type` errors are merged ("must have 'id' or 'sku'", "must be string or number"),
 * and otherwise the first branch speaks. Never a dump of every branch.
 */
interface ErrorNode {
  error: ErrorObject;
  children: ErrorNode[];
}

export function toIssues(errors: readonly ErrorObject[], prefix: string): SchemaIssue[] {
  const roots: ErrorNode[] = [];
  let end = errors.length - 1;
  while (end >= 0) {
    const { node, start } = parse(errors, end);
    roots.unshift(node);
    end = start - 1;
  }
  const seen = new Set<string>();
  const issues: SchemaIssue[] = [];
  for (const issue of roots.flatMap((root) => describe(root, prefix))) {
    const key = `${issue.pointer}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function parse(errors: readonly ErrorObject[], end: number): { node: ErrorNode; start: number } {
  const error = errors[end]!;
  const children: ErrorNode[] = [];
  let i = end - 1;
  const count = childCount(error);
  if (count === 'items') {
    // `contains` inside a union leaves one error per failing item, all below the array's own path.
    const below = `${error.instancePath}/`;
    while (i >= 0 && errors[i]!.instancePath.startsWith(below)) {
      const child = parse(errors, i);
      children.unshift(child.node);
      i = child.start - 1;
    }
  } else {
    for (let k = 0; k < count && i >= 0; k++) {
      const child = parse(errors, i);
      children.unshift(child.node);
      i = child.start - 1;
    }
  }
  return { node: { error, children }, start: i + 1 };
}

function childCount(error: ErrorObject): number | 'items' {
  const branches = Array.isArray(error.schema) ? error.schema.length : 0;
  switch (error.keyword) {
    case 'anyOf':
      return branches;
    case 'oneOf': {
      // Ajv stops at the second passing branch; the failed branches before it left errors.
      const passing = (error.params as { passingSchemas?: number[] | null }).passingSchemas;
      return passing ? Math.max(0, (passing[1] ?? 0) - 1) : branches;
    }
    case 'if':
    case 'propertyNames':
      return 1;
    case 'contains':
      return 'items';
    default:
      return 0;
  }
}

function describe(node: ErrorNode, prefix: string): SchemaIssue[] {
  const { error, children } = node;
  const at = prefix + error.instancePath;
  switch (error.keyword) {
    case 'anyOf':
    case 'oneOf': {
      const passing = (error.params as { passingSchemas?: number[] | null }).passingSchemas;
      if (passing) {
        return [
          {
            pointer: at,
            message: customMessage(error) ?? 'must match exactly one allowed form, not several',
          },
        ];
      }
      return describeUnion(node, prefix);
    }
    case 'if':
      return children.length ? describe(children[0]!, prefix) : [leaf(error, prefix)];
    case 'propertyNames': {
      const name = String((error.params as { propertyName?: unknown }).propertyName ?? '');
      const inner = children[0]?.error.message;
      return [
        { pointer: `${at}/${pointerSegment(name)}`, message: `property name ${inner ?? 'is not allowed'}` },
      ];
    }
    default:
      return [leaf(error, prefix)];
  }
}

function describeUnion(node: ErrorNode, prefix: string): SchemaIssue[] {
  const { error, children } = node;
  const at = prefix + error.instancePath;
  const custom = customMessage(error);
  if (children.length === 0)
    return [{ pointer: at, message: custom ?? 'does not match any of the allowed forms' }];
  const scores = children.map(reach);
  const best = Math.max(...scores);
  const tied = children.filter((_, i) => scores[i] === best);
  if (tied.length === 1) return describe(tied[0]!, prefix);
  if (custom) return [{ pointer: at, message: custom }];

  // Merge only branches that each failed on one plain keyword at the union's own location.
  const leaves = tied.map((child) => child.error);
  const plain = tied.every((n) => n.children.length === 0 && n.error.instancePath === error.instancePath);
  if (plain && leaves.every((e) => e.keyword === 'required')) {
    const names = leaves.map(
      (e) => `'${String((e.params as { missingProperty?: unknown }).missingProperty)}'`,
    );
    return [{ pointer: at, message: `must have ${unique(names).join(' or ')}` }];
  }
  if (plain && leaves.every((e) => e.keyword === 'type')) {
    const types = leaves.flatMap((e) => typeList(e));
    return [{ pointer: at, message: `must be ${unique(types).join(' or ')}` }];
  }
  return describe(tied[0]!, prefix);
}

/** How deep into the data a branch got before failing: the deepest instancePath among its errors. */
function reach(node: ErrorNode): number {
  const own = depth(node.error.instancePath);
  return node.children.reduce((max, child) => Math.max(max, reach(child)), own);
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

function leaf(error: ErrorObject, prefix: string): SchemaIssue {
  const at = prefix + error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { pointer: `${at}/${pointerSegment(String(params.missingProperty))}`, message: 'is required' };
    case 'dependentRequired':
      return {
        pointer: `${at}/${pointerSegment(String(params.missingProperty))}`,
        message: `is required when '${String(params.property)}' is present`,
      };
    case 'additionalProperties':
      return {
        pointer: `${at}/${pointerSegment(String(params.additionalProperty))}`,
        message: 'is not allowed',
      };
    case 'unevaluatedProperties':
      return {
        pointer: `${at}/${pointerSegment(String(params.unevaluatedProperty))}`,
        message: 'is not allowed',
      };
  }
  const custom = customMessage(error);
  if (custom) return { pointer: at, message: custom };
  switch (error.keyword) {
    case 'type':
      return { pointer: at, message: `must be ${typeList(error).join(' or ')}` };
    case 'minLength':
      if (params.limit === 1) return { pointer: at, message: 'must not be empty' };
      break;
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      const shown = allowed.slice(0, 10).map((v) => JSON.stringify(v));
      if (allowed.length > 10) shown.push('…');
      if (shown.length) return { pointer: at, message: `must be one of ${shown.join(', ')}` };
      break;
    }
    case 'const':
      return { pointer: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
  }
  return { pointer: at, message: error.message ?? 'is invalid' };
}

/** `x-message` on the schema holding the failing keyword (available because the Ajv instances are verbose). */
function customMessage(error: ErrorObject): string | undefined {
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  const message = parent?.['x-message'];
  return typeof message === 'string' ? message : undefined;
}

function typeList(error: ErrorObject): string[] {
  const type = (error.params as { type?: unknown }).type;
  const list = Array.isArray(type) ? type.map(String) : String(type ?? '').split(',');
  return list.filter((t) => t !== '');
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Escapes a property name for use as a JSON-pointer segment (RFC 6901). */
export function pointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

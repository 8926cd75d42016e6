// Latent arithmetic expressions over prompts: `"a red circle" - "a red square" + "a blue square"`,
// with scalar weights (`0.5 * "a red circle"`, `"a blue square" / 2`) and parentheses. The value of an
// expression is linear in the prompts' latents, so parsing yields a linear combination: prompt ->
// coefficient (a prompt named twice adds up). Grammar (usual precedence, left associative):
//   expr   := term (('+' | '-') term)*
//   term   := factor (('*' | '/') factor)*
//   factor := ('+' | '-') factor | number | "prompt" | '(' expr ')'
// A product of two prompts, or a division by one, is not linear and is an error.
import { CrossflowError } from '../errors';

/** prompt -> coefficient, in the order prompts first appear; a constant term is not allowed. */
export type LinearCombination = Map<string, number>;

type Token = { kind: 'num'; value: number; pos: number } | { kind: 'prompt'; text: string; pos: number } | { kind: 'op'; op: '+' | '-' | '*' | '/' | '(' | ')'; pos: number };

export class ExpressionError extends CrossflowError {}

function fail(expr: string, pos: number, what: string): never {
  throw new ExpressionError(`--expr: ${what} at position ${pos + 1}:\n  ${expr}\n  ${' '.repeat(pos)}^`);
}

export function tokenizeExpression(expr: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const ch = expr[i];
    if (/\s/.test(ch)) i++;
    else if (ch === '"' || ch === "'") {
      const end = expr.indexOf(ch, i + 1);
      if (end < 0) fail(expr, i, `unterminated prompt (no closing ${ch})`);
      const text = expr.slice(i + 1, end).trim();
      if (!text) fail(expr, i, 'empty prompt');
      out.push({ kind: 'prompt', text, pos: i });
      i = end + 1;
    } else if ('+-*/()'.includes(ch)) {
      out.push({ kind: 'op', op: ch as '+', pos: i });
      i++;
    } else {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(expr.slice(i));
      if (!m) fail(expr, i, `unexpected ${JSON.stringify(ch)} (prompts are quoted: "a red circle")`);
      out.push({ kind: 'num', value: Number(m[0]), pos: i });
      i += m[0].length;
    }
  }
  return out;
}

/** A value while parsing: a scalar, or a linear combination of prompts. */
type Value = { scalar: number } | { combo: LinearCombination };

const isScalar = (v: Value): v is { scalar: number } => 'scalar' in v;

function scale(v: Value, k: number): Value {
  if (isScalar(v)) return { scalar: v.scalar * k };
  return { combo: new Map([...v.combo].map(([p, c]) => [p, c * k])) };
}

export function parseExpression(expr: string): LinearCombination {
  const tokens = tokenizeExpression(expr);
  let at = 0;
  const peek = () => tokens[at];
  const isOp = (t: Token | undefined, ...ops: string[]) => !!t && t.kind === 'op' && ops.includes(t.op);
  const end = () => (tokens.length ? tokens[tokens.length - 1].pos + 1 : 0);

  const add = (a: Value, b: Value, sign: number, pos: number): Value => {
    if (isScalar(a) && isScalar(b)) return { scalar: a.scalar + sign * b.scalar };
    if (isScalar(a) || isScalar(b)) fail(expr, pos, 'a number added to a prompt (only weighted prompts can be added)');
    const out = new Map(a.combo);
    for (const [p, c] of b.combo) out.set(p, (out.get(p) ?? 0) + sign * c);
    return { combo: out };
  };

  function expression(): Value {
    let v = term();
    while (isOp(peek(), '+', '-')) {
      const t = tokens[at++] as { op: string; pos: number };
      v = add(v, term(), t.op === '+' ? 1 : -1, t.pos);
    }
    return v;
  }
  function term(): Value {
    let v = factor();
    while (isOp(peek(), '*', '/')) {
      const t = tokens[at++] as { op: string; pos: number };
      const w = factor();
      if (t.op === '*') {
        if (!isScalar(v) && !isScalar(w)) fail(expr, t.pos, 'a product of two prompts (not a linear combination)');
        v = isScalar(v) ? scale(w, v.scalar) : scale(v, (w as { scalar: number }).scalar);
      } else {
        if (!isScalar(w)) fail(expr, t.pos, 'a division by a prompt');
        if (w.scalar === 0) fail(expr, t.pos, 'a division by zero');
        v = scale(v, 1 / w.scalar);
      }
    }
    return v;
  }
  function factor(): Value {
    const t = peek();
    if (!t) fail(expr, end(), 'the expression ends where a prompt, number or "(" should come');
    at++;
    if (t.kind === 'num') return { scalar: t.value };
    if (t.kind === 'prompt') return { combo: new Map([[t.text, 1]]) };
    if (t.op === '+' || t.op === '-') return scale(factor(), t.op === '-' ? -1 : 1);
    if (t.op === '(') {
      const v = expression();
      if (!isOp(peek(), ')')) fail(expr, peek()?.pos ?? end(), `unbalanced parentheses: "(" at position ${t.pos + 1} is never closed`);
      at++;
      return v;
    }
    return fail(expr, t.pos, t.op === ')' ? 'unbalanced parentheses: ")" with no "(" before it' : `unexpected "${t.op}"`);
  }

  if (!tokens.length) fail(expr, 0, 'empty expression');
  const v = expression();
  if (at < tokens.length) {
    const t = tokens[at];
    fail(expr, t.pos, isOp(t, ')') ? 'unbalanced parentheses: ")" with no "(" before it' : 'an operator (+ - * /) is missing before this');
  }
  if (isScalar(v)) fail(expr, 0, 'the expression has no prompt in it');
  return v.combo;
}
